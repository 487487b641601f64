"""Periodic housekeeping for signing (thin: one service call)."""

from __future__ import annotations

from celery import shared_task

from .services import used_nonces_purge as _used_nonces_purge


@shared_task(name="apps.signing.tasks.used_nonces_purge")
def used_nonces_purge() -> int:
    return _used_nonces_purge()
