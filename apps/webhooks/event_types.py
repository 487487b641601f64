"""Webhook event names, defined once: the ``type`` field of every delivery."""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    SESSION_COMPLETED = "verification.session.completed"
    SESSION_EXPIRED = "verification.session.expired"
    SESSION_CANCELLED = "verification.session.cancelled"
    # Continuous checks (the SDK's headless mode): a change of person or several faces after the session passed.
    SESSION_CHECK = "verification.session.check"
    SELFIE_CHECK_COMPLETED = "verif.check.completed"
    TEST = "webhook.test"  # the admin's "send test event" and POST /v1/webhooks/test

    @property
    def label(self) -> str:
        """What the admin shows: ``Session Completed``."""
        return self.name.replace("_", " ").title()


# Every event about a verification session starts with this prefix (the payload adds the seed's fields).
SESSION_EVENT_PREFIX = "verification.session."

# Events whose receivers were written against another document's User-Agent (004: "Webhooks are sent with
# User-Agent: IdentityVerification/1.0"); every other event sends Liveproof-Webhooks/<version>.
EVENT_USER_AGENTS: dict[str, str] = {EventType.SELFIE_CHECK_COMPLETED: "IdentityVerification/1.0"}
