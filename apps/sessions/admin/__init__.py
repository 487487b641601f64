"""The sessions app's admin: the operator console (``sessions``: list, attempts, timeline; ``dashboard``)."""

from __future__ import annotations

from .sessions import SessionAdmin

__all__ = ["SessionAdmin"]
