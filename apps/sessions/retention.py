"""Retention of session rows: personal fields go after SESSION_RETENTION_DAYS, the row stays.

What aggregates need stays (status, the Pass/Fail results and reasons, timestamps,
account, the frozen config, engine and model versions); what says something about
the person goes (the integrator's externalId and custom parameters, the session
name, estimated age and gender, every score, the faceId link and the ICAO photo).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import Session, SessionAttempt, SessionHandoff, UsedSessionToken

# Every personal field and the value it is left with. A new personal column belongs here.
PERSONAL_FIELDS_CLEARED: dict[str, object] = {
    "name": "",
    "external_id": None,
    "custom_input_parameters": {},
    "estimated_age": None,
    "estimated_gender": None,
    "face_id": None,
    "confidence": None,
    "scores": {},
    "challenge_outcomes": {},
    "icao_jpeg": None,
    "icao_checks": {},
    "checks": [],
    "entry_user_id": None,
    "user_similarity": None,
    "device_id": "",
    "client_address": None,
    "user_agent": "",
}
# The same for each kept attempt (apps/sessions/services/attempts.py): what the capture showed of the person.
ATTEMPT_PERSONAL_FIELDS_CLEARED: dict[str, object] = {
    "confidence": None,
    "scores": {},
    "challenge_outcomes": {},
    "timeline": {},
}


# Sessions cleared in one transaction: a first run after an outage (or a shorter window) works through the backlog
# in bounded transactions instead of one that holds every old row's lock.
PURGE_BATCH = 1000


def sessions_personal_data_purge(*, now: datetime | None = None) -> int:
    """Clear the personal fields of sessions created more than SESSION_RETENTION_DAYS ago; returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=int(settings.SESSION_RETENTION_DAYS))
    cleared = 0
    while True:
        # Through the partial index of sessions not yet cleared: a run with nothing left reads nothing.
        due = Session.objects.filter(created_at__lt=cutoff, personal_data_purged_at__isnull=True)
        ids = list(due.order_by("created_at").values_list("id", flat=True)[:PURGE_BATCH])
        if ids:
            cleared += _personal_data_clear(ids, now=now)
        if len(ids) < PURGE_BATCH:
            return cleared


def _personal_data_clear(ids: list[Any], *, now: datetime) -> int:
    with transaction.atomic():
        # Spent socket tokens and continue-on-a-phone codes only matter while they live (minutes); these are long
        # dead, and none is made for a session once it is cleared.
        UsedSessionToken.objects.filter(session_id__in=ids).delete()
        SessionHandoff.objects.filter(session_id__in=ids).delete()
        SessionAttempt.objects.filter(session_id__in=ids).update(**ATTEMPT_PERSONAL_FIELDS_CLEARED)
        # Conditional: a racing process finds nothing left to clear.
        due = Session.objects.filter(id__in=ids, personal_data_purged_at__isnull=True)
        cleared = due.update(**PERSONAL_FIELDS_CLEARED, personal_data_purged_at=now)
        _config_urls_clear(ids)
    return cleared


# A session's frozen config keeps the URLs it was created with, and a per-session override may carry the
# person in them (``passedUrl=…?email=…``, a callback URL with a user id); the rest of the config is aggregates.
CONFIG_URLS_CLEARED: dict[str, dict[str, object]] = {"redirectConfig": {}, "webhookConfig": {"eventCallbackUrl": None}}


def _config_urls_clear(ids: list[Any]) -> None:
    for start in range(0, len(ids), 500):
        sessions = list(Session.objects.filter(id__in=ids[start : start + 500]).only("id", "config"))
        for session in sessions:
            config = dict(session.config or {})
            config.update({block: value for block, value in CONFIG_URLS_CLEARED.items() if block in config})
            session.config = config
        Session.objects.bulk_update(sessions, ["config"])
