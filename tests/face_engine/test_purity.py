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


# Re-analysing the same frames must give the same verdict: only challenges.py draws (a session's plan and its
# re-prompt reserve, before any frame); nothing that analyses reads a clock or a random source.
CLOCKS_AND_CHANCE = ("time", "datetime", "random", "secrets", "uuid")
DRAWS_PLANS = {"challenges.py"}


def test_nothing_that_analyses_frames_reads_a_clock_or_a_random_source() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if str(path.relative_to(PACKAGE)) not in DRAWS_PLANS
        for name in _imports(path)
        if name.split(".")[0] in CLOCKS_AND_CHANCE or name == "numpy.random"
    ]
    offenders += [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if "np.random" in p.read_text()]
    assert offenders == []
