"""The face engine is pure Python: no Django, Channels or Celery anywhere in the package."""

from __future__ import annotations

import ast
from pathlib import Path

import apps.face_engine

FORBIDDEN = ("django", "channels", "celery", "rest_framework", "config")
PACKAGE = Path(apps.face_engine.__file__).parent


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def test_the_package_has_modules_to_scan() -> None:
    assert len(list(PACKAGE.rglob("*.py"))) >= 8


def test_no_module_of_the_face_engine_imports_django_channels_or_celery() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for name in _imports(path):
            top = name.split(".")[0]
            if top in FORBIDDEN or (top == "apps" and not name.startswith("apps.face_engine")):
                offenders.append(f"{path.relative_to(PACKAGE)}: {name}")
    assert offenders == []


def test_the_scan_would_catch_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from django.conf import settings\n    return settings\n")
    assert "django.conf" in _imports(bad)
