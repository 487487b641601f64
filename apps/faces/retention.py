"""Retention of selfie-versus-ID check rows: the user's identifiers and scores go after SESSION_RETENTION_DAYS.

The files go sooner (VERIF_FILE_RETENTION_DAYS, ``selfie_id.verif_files_purge``).
The row keeps its verified/rejected status and timestamps for aggregates.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from .models import SelfieCheck

# The parts of ``result`` that say nothing about the person (no scores, no liveness detail).
_RESULT_KEPT = ("sessionId", "timestamp", "status")


def selfie_checks_personal_data_purge(*, now: datetime | None = None) -> int:
    """Clear identifiers, contact details and scores of checks older than SESSION_RETENTION_DAYS."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=int(settings.SESSION_RETENTION_DAYS))
    due = SelfieCheck.objects.filter(created_at__lt=cutoff, personal_data_purged_at__isnull=True)
    purged = 0
    for check in due.only("pk", "result").iterator():
        kept = {k: v for k, v in (check.result or {}).items() if k in _RESULT_KEPT}
        # Conditional: a racing run clears each row once.
        purged += SelfieCheck.objects.filter(pk=check.pk, personal_data_purged_at__isnull=True).update(
            user_identifier="", user_email="", user_phone="", result=kept, personal_data_purged_at=now
        )
    return purged
