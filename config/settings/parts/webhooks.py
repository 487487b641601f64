"""Settings owned by the webhooks area. Read from the environment once; see config/env.py."""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

from config.env import setting

# Every request to an integrator's server ends after this many seconds, whatever it sends.
WEBHOOK_TIMEOUT_SECONDS = setting("WEBHOOK_TIMEOUT_SECONDS", 10.0, float)
# Waits (seconds) before retry 1, 2, ...; jitter is applied to each. One first attempt + one per entry.
_DEFAULT_SCHEDULE = ["5", "300", "1800", "7200", "18000", "36000", "50400", "72000", "86400"]


def _retry_schedule() -> list[int]:
    # A function, so that no exception name leaks into `from .parts.webhooks import *`.
    try:
        return [int(v) for v in setting("WEBHOOK_RETRY_SCHEDULE_SECONDS", _DEFAULT_SCHEDULE, list)]
    except ValueError as exc:
        raise ImproperlyConfigured(f"Setting WEBHOOK_RETRY_SCHEDULE_SECONDS is malformed: {exc}") from exc


WEBHOOK_RETRY_SCHEDULE_SECONDS = _retry_schedule()
# Each wait is multiplied by a random factor in [1 - jitter, 1 + jitter] so retries do not arrive in lockstep.
WEBHOOK_RETRY_JITTER = setting("WEBHOOK_RETRY_JITTER", 0.1, float)
# A claimed delivery belongs to its worker this long; after that the sweep may hand it to another worker.
WEBHOOK_LEASE_SECONDS = setting("WEBHOOK_LEASE_SECONDS", 60, int)
# A delivery enqueued this long ago that is still due is enqueued again (the message may be lost).
WEBHOOK_REENQUEUE_AFTER_SECONDS = setting("WEBHOOK_REENQUEUE_AFTER_SECONDS", 120, int)
# Retries due within this many seconds ride a Celery countdown; later ones wait for the sweep.
WEBHOOK_COUNTDOWN_MAX_SECONDS = setting("WEBHOOK_COUNTDOWN_MAX_SECONDS", 60, int)
WEBHOOK_SWEEP_INTERVAL_SECONDS = setting("WEBHOOK_SWEEP_INTERVAL_SECONDS", 15.0, float)
# After a rotation the previous secret keeps signing (second signature) for this long.
WEBHOOK_SECRET_ROTATION_OVERLAP_SECONDS = setting("WEBHOOK_SECRET_ROTATION_OVERLAP_SECONDS", 86400, int)
# Scheduled rotation: a webhook secret older than this many days is rotated (the old one keeps signing, as a
# second signature, for WEBHOOK_SECRET_ROTATION_OVERLAP_SECONDS); 0 turns it off.
WEBHOOK_SECRET_ROTATION_DAYS = setting("WEBHOOK_SECRET_ROTATION_DAYS", 0, int)
WEBHOOK_MAX_PAYLOAD_BYTES = setting("WEBHOOK_MAX_PAYLOAD_BYTES", 65536, int)
WEBHOOK_RESPONSE_EXCERPT_BYTES = setting("WEBHOOK_RESPONSE_EXCERPT_BYTES", 1024, int)
# A slower DNS answer counts as "does not resolve": accepted when saving a URL, retried at delivery.
WEBHOOK_DNS_TIMEOUT_SECONDS = setting("WEBHOOK_DNS_TIMEOUT_SECONDS", 3.0, float)
# A PEM file of CAs trusted for https deliveries instead of the system store (a private CA); empty: system store.
WEBHOOK_CA_BUNDLE = setting("WEBHOOK_CA_BUNDLE", "")
# Events, deliveries and attempts are deleted this many days after the event (never while pending).
WEBHOOK_RETENTION_DAYS = setting("WEBHOOK_RETENTION_DAYS", 30, int)
# Test-only: lets deliveries reach 127.0.0.0/8 and ::1 (a receiver started by the test). Never in production.
WEBHOOK_ALLOW_LOOPBACK = setting("WEBHOOK_ALLOW_LOOPBACK", False, bool)

if WEBHOOK_TIMEOUT_SECONDS <= 0 or WEBHOOK_TIMEOUT_SECONDS > 60:
    raise ImproperlyConfigured("Setting WEBHOOK_TIMEOUT_SECONDS is malformed: use a number of seconds in (0, 60]")
if not WEBHOOK_RETRY_SCHEDULE_SECONDS or min(WEBHOOK_RETRY_SCHEDULE_SECONDS) < 1:
    raise ImproperlyConfigured("Setting WEBHOOK_RETRY_SCHEDULE_SECONDS is malformed: use positive seconds")
if not 0 <= WEBHOOK_RETRY_JITTER < 1:
    raise ImproperlyConfigured("Setting WEBHOOK_RETRY_JITTER is malformed: use a fraction in [0, 1)")
if WEBHOOK_LEASE_SECONDS <= WEBHOOK_TIMEOUT_SECONDS:
    raise ImproperlyConfigured("Setting WEBHOOK_LEASE_SECONDS is malformed: it must exceed WEBHOOK_TIMEOUT_SECONDS")
if WEBHOOK_ALLOW_LOOPBACK and os.environ.get("DJANGO_SETTINGS_MODULE", "").endswith(".production"):
    raise ImproperlyConfigured("WEBHOOK_ALLOW_LOOPBACK is for tests only and is refused in production settings")

BEAT_SCHEDULE: dict[str, dict] = {
    "webhooks-sweep": {
        "task": "apps.webhooks.tasks.webhook_deliveries_sweep",
        "schedule": WEBHOOK_SWEEP_INTERVAL_SECONDS,
        "options": {"queue": "webhooks", "expires": WEBHOOK_SWEEP_INTERVAL_SECONDS},
    },
    "webhooks-secrets-rotate": {
        "task": "apps.webhooks.tasks.webhook_secrets_rotate_due",
        "schedule": 3600.0,
        "options": {"queue": "webhooks"},
    },
    "webhooks-purge": {
        "task": "apps.webhooks.tasks.webhook_events_purge",
        "schedule": 24 * 3600.0,
        "options": {"queue": "webhooks"},
    },
}
