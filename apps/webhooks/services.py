"""Webhook writes: recording events, secrets and rotation, redelivery, test events, endpoints."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Account
from apps.audit.models import AuditEventType
from apps.audit.services import audit_record

from .event_types import EventType
from .models import WebhookDelivery, WebhookEndpoint, WebhookEvent, new_event_id
from .payloads import payload_build
from .signing_secrets import webhook_secret_get_or_create
from .ssrf import check_url_on_save
from .tasks import delivery_enqueue_on_commit


def _session_id(payload: dict[str, Any]) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(payload.get("verificationSessionId")))
    except ValueError:
        return None


def webhook_event_record(
    *,
    account: Account,
    event_type: EventType,
    payload: dict[str, Any],
    url: str | None,
    session_id: uuid.UUID | None = None,
    enveloped: bool = True,
) -> WebhookDelivery | None:
    """Record an event and its delivery in the caller's transaction; None when there is no URL.

    Call it inside the transaction that changes the session: the event then
    exists exactly when the change does, and the delivery is enqueued only
    after that transaction commits. ``payload`` is the get-session-result
    dict (no images); with ``enveloped=False`` it is the whole body (another
    API's shape, payloads.py). ``session_id`` defaults to the payload's
    ``verificationSessionId``. A disabled endpoint gets a failed delivery,
    visible in the admin, instead of a request. An unknown ``event_type`` is a ValueError.
    """
    event_type = EventType(event_type)
    if not url:
        return None
    webhook_secret_get_or_create(account=account)
    now = timezone.now()
    with transaction.atomic():
        endpoint, _ = WebhookEndpoint.objects.get_or_create(account=account, url=url)
        event_id = new_event_id()
        event = WebhookEvent.objects.create(
            id=event_id,
            account=account,
            type=event_type,
            session_id=session_id or _session_id(payload),
            body=payload_build(
                event_id=event_id, event_type=event_type, occurred_at=now, data=payload, enveloped=enveloped
            ),
        )
        if endpoint.disabled:
            return WebhookDelivery.objects.create(
                event=event,
                endpoint=endpoint,
                status=WebhookDelivery.Status.FAILED,
                last_error=f"Endpoint disabled: {endpoint.disabled_reason}"[:500],
            )
        delivery = WebhookDelivery.objects.create(event=event, endpoint=endpoint, next_attempt_at=now, enqueued_at=now)
        delivery_enqueue_on_commit(delivery_id=delivery.pk)
    return delivery


def webhook_test_send(*, account: Account, url: str) -> WebhookDelivery:
    """Send a ``webhook.test`` event to ``url`` (admin "send test event"); ValueError for a refused URL."""
    check_url_on_save(url)
    data = {"message": "This is a test event from Liveproof.", "accountId": str(account.pk)}
    with transaction.atomic():
        delivery = webhook_event_record(account=account, event_type=EventType.TEST, payload=data, url=url)
        assert delivery is not None  # url is non-empty here
        audit_record(
            account_id=account.pk,
            type=AuditEventType.WEBHOOK_TEST_SENT,
            subject_type="webhookEndpoint",
            subject_id=delivery.endpoint_id,
            details={"url": url, "eventId": str(delivery.event_id)},
        )
    return delivery


@transaction.atomic
def webhook_delivery_redeliver(*, delivery: WebhookDelivery) -> bool:
    """Send the same event (same ``webhook-id``) again with a fresh retry schedule; False while in flight."""
    now = timezone.now()
    updated = (
        WebhookDelivery.objects.filter(pk=delivery.pk)
        .exclude(leased_until__gt=now)
        .update(
            status=WebhookDelivery.Status.PENDING,
            failures_in_round=0,
            next_attempt_at=now,
            enqueued_at=now,
            delivered_at=None,
        )
    )
    if updated:
        delivery_enqueue_on_commit(delivery_id=delivery.pk)
        event = WebhookEvent.objects.only("account_id").get(pk=delivery.event_id)
        audit_record(
            account_id=event.account_id,
            type=AuditEventType.WEBHOOK_REDELIVERED,
            subject_type="webhookDelivery",
            subject_id=delivery.pk,
            details={"eventId": str(delivery.event_id), "endpointId": delivery.endpoint_id},
        )
    return bool(updated)


@transaction.atomic
def webhook_endpoint_enable(*, endpoint: WebhookEndpoint) -> None:
    """Deliveries to the endpoint again; audited when it was disabled."""
    if WebhookEndpoint.objects.filter(pk=endpoint.pk, disabled=True).update(
        disabled=False, disabled_at=None, disabled_reason=""
    ):
        audit_record(
            account_id=endpoint.account_id,
            type=AuditEventType.WEBHOOK_ENDPOINT_ENABLED,
            subject_type="webhookEndpoint",
            subject_id=endpoint.pk,
            details={"url": endpoint.url},
        )
