"""Reading settings from the environment: typed, with ``*_FILE`` secrets, failing loudly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()


def setting(name: str, default: Any = None, cast: type = str) -> Any:
    """Read ``name`` (or the file named by ``name_FILE``); raise ImproperlyConfigured when malformed."""
    try:
        file_name = env.str(f"{name}_FILE", default="")
        if file_name:
            return env.parse_value(Path(file_name).read_text().strip(), cast)
        if cast is bool:
            return env.bool(name, default=default)
        if cast is int:
            return env.int(name, default=default)
        if cast is float:
            return env.float(name, default=default)
        if cast is list:
            return env.list(name, default=default)
        return env.str(name, default=default)
    except (ValueError, OSError) as exc:
        raise ImproperlyConfigured(f"Setting {name} is malformed: {exc}") from exc
