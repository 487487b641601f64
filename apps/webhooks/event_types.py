"""Webhook event names, defined once: the ``type`` field of every delivery."""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    SESSION_COMPLETED = "verification.session.completed"
    SESSION_EXPIRED = "verification.session.expired"
    SESSION_CANCELLED = "verification.session.cancelled"
    SELFIE_ID_CHECK_COMPLETED = "verif.check.completed"


# Every event about a verification session starts with this prefix (the payload adds the seed's fields).
SESSION_EVENT_PREFIX = "verification.session."
