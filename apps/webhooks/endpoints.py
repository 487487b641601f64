"""Disabling an endpoint: from the admin, or by the delivery worker when the receiver answers 410 Gone.

Apart from ``services`` because the delivery worker needs it too, and ``services`` imports the worker's tasks.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from apps.audit.models import AuditEventType
from apps.audit.services import audit_record

from .models import WebhookEndpoint


@transaction.atomic
def webhook_endpoint_disable(
    *, endpoint: WebhookEndpoint, reason: str, at: datetime | None = None, actor: str | None = None
) -> None:
    """No more deliveries to the endpoint; audited when it was enabled (``actor``: the caller's by default)."""
    if WebhookEndpoint.objects.filter(pk=endpoint.pk, disabled=False).update(
        disabled=True, disabled_at=at or timezone.now(), disabled_reason=reason[:200]
    ):
        audit_record(
            account_id=endpoint.account_id,
            type=AuditEventType.WEBHOOK_ENDPOINT_DISABLED,
            actor=actor,
            subject_type="webhookEndpoint",
            subject_id=endpoint.pk,
            details={"url": endpoint.url, "reason": reason[:200]},
        )
