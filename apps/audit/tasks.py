"""Periodic housekeeping of the audit trail."""

from __future__ import annotations

from celery import shared_task

from .services import audit_events_purge


@shared_task(name="apps.audit.tasks.audit_events_purge", ignore_result=True)
def audit_events_purge_task() -> int:
    """Daily: events past AUDIT_RETENTION_DAYS go (they hold addresses and actor names)."""
    return audit_events_purge()
