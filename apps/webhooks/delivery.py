"""Sending deliveries: claim with a lease, one HTTP request outside any transaction, record, reschedule.

A delivery is sent by whoever claims it with a conditional UPDATE, so a
duplicated Celery message, a redelivered message after a worker crash and the
beat sweep can all race harmlessly. A claim holds a lease; a worker that dies
mid-request leaves the delivery pending, and once the lease expires the sweep
enqueues it again. The receiver then sees the same ``webhook-id`` again, never
a new event.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.core.metrics import WEBHOOK_ATTEMPTS, WEBHOOK_LAG

from . import signatures, ssrf
from .endpoints import webhook_endpoint_disable
from .event_types import EVENT_USER_AGENTS
from .models import WebhookAttempt, WebhookDelivery, WebhookEvent
from .signing_secrets import webhook_secret_get_or_create, webhook_secrets_for_signing
from .transport import HttpOutcome, post_json

logger = logging.getLogger(__name__)


# How a delivery is (re)queued: the tasks module passes its publisher in, since it calls this module.
Publish = Callable[[int, float], None]


def retry_delay_seconds(*, failures: int) -> float | None:
    """The jittered wait after the ``failures``-th consecutive failure, or None when retries are exhausted."""
    schedule = settings.WEBHOOK_RETRY_SCHEDULE_SECONDS
    if failures > len(schedule):
        return None
    jitter = float(settings.WEBHOOK_RETRY_JITTER)
    return schedule[failures - 1] * random.uniform(1 - jitter, 1 + jitter)


def _claim(delivery_id: int, now: datetime) -> uuid.UUID | None:
    token = uuid.uuid4()
    claimed = (
        WebhookDelivery.objects.filter(id=delivery_id, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lte=now))
        .update(
            leased_until=now + timedelta(seconds=int(settings.WEBHOOK_LEASE_SECONDS)),
            lease_token=token,
            attempt_count=F("attempt_count") + 1,
            enqueued_at=None,  # the message that brought us here is consumed
        )
    )
    return token if claimed == 1 else None


def _request(delivery: WebhookDelivery) -> HttpOutcome:
    if delivery.endpoint.disabled:
        return HttpOutcome(None, f"Endpoint disabled: {delivery.endpoint.disabled_reason}", "", 0)
    started = time.monotonic()
    try:
        target = ssrf.target_for_delivery(delivery.endpoint.url)
    except ssrf.UnsafeURLError as exc:
        return HttpOutcome(None, f"Refused: {exc}", "", int((time.monotonic() - started) * 1000))
    except OSError as exc:
        return HttpOutcome(None, f"DNS error: {exc}", "", int((time.monotonic() - started) * 1000))
    secret = webhook_secret_get_or_create(account=delivery.event.account)
    body = delivery.event.body
    headers = signatures.signed_headers(
        secrets_=webhook_secrets_for_signing(secret=secret),
        msg_id=delivery.event_id,
        timestamp=int(time.time()),
        body=body,
        agent=EVENT_USER_AGENTS.get(delivery.event.type),
    )
    return post_json(
        target=target,
        body=body.encode(),
        headers=headers,
        timeout=float(settings.WEBHOOK_TIMEOUT_SECONDS),
        excerpt_bytes=int(settings.WEBHOOK_RESPONSE_EXCERPT_BYTES),
        cafile=settings.WEBHOOK_CA_BUNDLE or None,
    )


def _describe(outcome: HttpOutcome) -> str:
    code = outcome.status_code
    if code is None:
        return outcome.error
    if 300 <= code < 400:
        return f"HTTP {code}: redirects are not followed"
    if code == 410:
        return "HTTP 410: endpoint disabled"
    return "" if 200 <= code < 300 else f"HTTP {code}"


def webhook_delivery_send(*, delivery_id: int, publish: Publish) -> str:
    """Make one attempt at a due delivery; returns delivered/retrying/failed, or skipped when not claimable."""
    token = _claim(delivery_id, timezone.now())
    if token is None:
        return "skipped"  # delivered, failed, not yet due, or another worker holds it
    delivery = WebhookDelivery.objects.select_related("event__account", "endpoint").get(id=delivery_id)
    started_at = timezone.now()
    WEBHOOK_LAG.observe(max((started_at - delivery.event.created_at).total_seconds(), 0.0))
    try:
        outcome = _request(delivery)  # no transaction is open here: the request may take seconds
    except Exception as exc:  # a bug must cost one attempt, not hold the delivery forever
        logger.exception("Webhook delivery %s failed unexpectedly", delivery_id)
        outcome = HttpOutcome(None, f"Internal error: {type(exc).__name__}", "", 0)
    return _finish(delivery, token, started_at, outcome, publish=publish)


def _finish(
    delivery: WebhookDelivery, token: uuid.UUID, started_at: datetime, outcome: HttpOutcome, *, publish: Publish
) -> str:
    code = outcome.status_code
    error = _describe(outcome)
    finished = timezone.now()
    changes: dict = {"leased_until": None, "lease_token": None, "last_status_code": code, "last_error": error[:500]}
    delay: float | None = None
    if code is not None and 200 <= code < 300:
        result = "delivered"
        changes |= {"status": WebhookDelivery.Status.DELIVERED, "delivered_at": finished, "failures_in_round": 0}
    elif code == 410 or delivery.endpoint.disabled:
        result = "failed"
        changes |= {"status": WebhookDelivery.Status.FAILED, "failures_in_round": F("failures_in_round") + 1}
    else:
        delay = retry_delay_seconds(failures=delivery.failures_in_round + 1)
        changes["failures_in_round"] = F("failures_in_round") + 1
        if delay is None:
            result = "failed"
            changes["status"] = WebhookDelivery.Status.FAILED
        else:
            result = "retrying"
            changes["next_attempt_at"] = finished + timedelta(seconds=delay)
            # In-process tasks (the embedded default) ignore a countdown: the retry would run at once, find
            # itself not yet due and be dropped, and the sweep would wait for WEBHOOK_REENQUEUE_AFTER_SECONDS.
            # There the sweep sends it as soon as it is due.
            if delay <= int(settings.WEBHOOK_COUNTDOWN_MAX_SECONDS) and not settings.CELERY_TASK_ALWAYS_EAGER:
                changes["enqueued_at"] = changes["next_attempt_at"]
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempt_count,
            started_at=started_at,
            duration_ms=outcome.duration_ms,
            status_code=code,
            error=error[:500],
            response_excerpt=outcome.excerpt,
        )
        # A worker whose lease ran out lost the delivery to another one: keep its attempt, not its verdict.
        owned = WebhookDelivery.objects.filter(id=delivery.pk, lease_token=token).update(**changes)
        if owned and code == 410:
            webhook_endpoint_disable(
                endpoint=delivery.endpoint, reason="The receiver answered 410 Gone.", at=finished, actor="system"
            )
    logger.info("Webhook %s attempt %d: %s %s", delivery.event_id, delivery.attempt_count, result, error)
    WEBHOOK_ATTEMPTS.labels(outcome=result if owned else "skipped").inc()
    if owned and "enqueued_at" in changes and delay is not None:
        publish(delivery.pk, delay)
    return result if owned else "skipped"


def webhook_deliveries_sweep(*, publish: Publish, limit: int = 500) -> int:
    """Enqueue due deliveries that are neither leased nor recently enqueued; the DB row is the source of truth.

    This is what makes a lost Redis message, a Redis restart or a killed worker
    harmless: the row stays pending, and once due and unleased it is sent again.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=int(settings.WEBHOOK_REENQUEUE_AFTER_SECONDS))
    due = (
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lte=now))
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=F("next_attempt_at")) | Q(enqueued_at__lt=stale))
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )
    ids = list(due)
    if not ids:
        return 0
    WebhookDelivery.objects.filter(id__in=ids).update(enqueued_at=now)
    for delivery_id in ids:
        publish(delivery_id, 0)
    return len(ids)


def webhook_events_purge(*, now: datetime | None = None) -> int:
    """Delete events (with their deliveries and attempts) older than the retention, unless still pending."""
    cutoff = (now or timezone.now()) - timedelta(days=int(settings.WEBHOOK_RETENTION_DAYS))
    pending = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).values("event_id")
    deleted, _ = WebhookEvent.objects.filter(created_at__lt=cutoff).exclude(id__in=pending).delete()
    return deleted
