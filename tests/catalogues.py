"""The gettext catalogues the hosted pages read: compiled before the tests, as ``scripts/bootstrap`` does.

A checkout whose ``locale/*/LC_MESSAGES/django.po`` changed since the last
install would otherwise test stale (or missing) ``.mo`` files.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

LOCALE = Path(__file__).resolve().parents[1] / "locale"


def catalogues_compile() -> None:
    """msgfmt every .po whose .mo is missing or older (what ``manage.py compilemessages`` runs)."""
    stale = [po for po in LOCALE.glob("*/LC_MESSAGES/*.po") if _stale(po)]
    if not stale:
        return
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        raise RuntimeError("msgfmt is missing: install gettext ('sudo apt-get install -y gettext'; scripts/bootstrap)")
    for po in stale:
        subprocess.run([msgfmt, "--check-format", "-o", str(po.with_suffix(".mo")), str(po)], check=True)


def _stale(po: Path) -> bool:
    mo = po.with_suffix(".mo")
    return not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime
