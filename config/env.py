"""Reading settings from the environment: typed, with ``*_FILE`` secrets, failing loudly."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _strict_bool(raw: str) -> bool:
    """A boolean spelled one of the usual ways; anything else (``DEBUG=maybe``) is malformed, not False."""
    value = raw.strip().lower()
    if value not in _TRUE | _FALSE:
        raise ValueError(f"{raw!r} is not a boolean (use true/false, 1/0, yes/no or on/off)")
    return value in _TRUE


def _parse(raw: str, cast: type) -> Any:
    """A value read from a ``*_FILE``, parsed exactly as the same text in the environment would be."""
    return _strict_bool(raw) if cast is bool else env.parse_value(raw, cast)


def absolute_base_url(name: str, value: str) -> str:
    """``value`` as a base URL (http(s)://host[:port][/path], no query); ImproperlyConfigured otherwise."""
    parts = urlsplit(value)
    extras = parts.query or parts.fragment or "@" in parts.netloc
    if parts.scheme not in ("http", "https") or not parts.hostname or extras:
        raise ImproperlyConfigured(f"Setting {name} is malformed: {value!r} is not an absolute http(s) URL")
    return value.rstrip("/")


# The multiplier, when given, is a positive number: django-ratelimit divides by it (20/0m: ZeroDivisionError).
_RATE = re.compile(r"^[1-9][0-9]*/([1-9][0-9]*)?[smhd]$")


def rate_setting(name: str, default: str) -> str:
    """A rate limit such as ``20/10m`` (count/period; s, m, h or d); ImproperlyConfigured otherwise."""
    value = str(setting(name, default)).strip()
    if not _RATE.match(value):
        raise ImproperlyConfigured(
            f"Setting {name} is malformed: {value!r} is not a rate such as 20/10m (count/period in s, m, h or d)"
        )
    return value


def setting(name: str, default: Any = None, cast: type = str) -> Any:
    """Read ``name`` (or the file named by ``name_FILE``); raise ImproperlyConfigured when malformed.

    A list is comma-separated; spaces around an item do not count (``a.example, b.example``), nor do empty items.
    """
    value = _setting(name, default, cast)
    if cast is list and value is not default:
        return [item.strip() for item in value if item.strip()]
    return value


def _setting(name: str, default: Any, cast: type) -> Any:
    try:
        file_name = env.str(f"{name}_FILE", default="")
        if file_name:
            return _parse(Path(file_name).read_text().strip(), cast)
        if cast is bool:
            raw = env.str(name, default=None)
            return default if raw is None else _strict_bool(raw)
        if cast is int:
            return env.int(name, default=default)
        if cast is float:
            return env.float(name, default=default)
        if cast is list:
            return env.list(name, default=default)
        return env.str(name, default=default)
    except (ValueError, OSError) as exc:
        raise ImproperlyConfigured(f"Setting {name} is malformed: {exc}") from exc
