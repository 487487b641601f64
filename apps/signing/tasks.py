"""Periodic housekeeping for signing (thin: one service call)."""

from __future__ import annotations

from celery import shared_task

from .services import signing_secrets_rotate_due as _signing_secrets_rotate_due
from .services import used_nonces_purge as _used_nonces_purge


@shared_task(name="apps.signing.tasks.used_nonces_purge")
def used_nonces_purge() -> int:
    return _used_nonces_purge()


@shared_task(name="apps.signing.tasks.signing_secrets_rotate_due")
def signing_secrets_rotate_due() -> int:
    """Hourly: rotate signing secrets older than SIGNING_SECRET_ROTATION_DAYS (off when 0)."""
    return _signing_secrets_rotate_due()
