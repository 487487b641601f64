"""Settings owned by the audit area. Read from the environment once; see config/env.py."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured

from config.env import setting

# Audit events (they hold addresses and actor names) are kept this long, then purged daily.
AUDIT_RETENTION_DAYS = setting("AUDIT_RETENTION_DAYS", 365, int)
if AUDIT_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("AUDIT_RETENTION_DAYS must be at least 1")

BEAT_SCHEDULE: dict[str, dict] = {
    "audit-events-purge": {
        "task": "apps.audit.tasks.audit_events_purge",
        "schedule": timedelta(days=1),
        "options": {"queue": "default"},
    },
}
