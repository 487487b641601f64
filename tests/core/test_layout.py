"""The code's shape stays findable: no module in apps/ grows past 400 lines (migrations aside)."""

from __future__ import annotations

from pathlib import Path

MAX_LINES = 400
APPS = Path(__file__).resolve().parents[2] / "apps"


def test_no_module_in_apps_is_over_400_lines() -> None:
    too_long = {
        str(path.relative_to(APPS.parent)): count
        for path in APPS.rglob("*.py")
        if "migrations" not in path.parts and (count := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not too_long, f"split these into modules by concern (docs/development.md): {too_long}"
