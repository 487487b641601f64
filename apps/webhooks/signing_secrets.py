"""The account's webhook signing secret: created on first use, rotated with an overlap.

Below both the services (which record events) and the delivery code (which signs each request).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.accounts.models import Account
from apps.audit.models import AuditEventType
from apps.audit.services import audit_record

from . import signatures
from .models import WebhookSecret


def webhook_secret_get_or_create(*, account: Account) -> WebhookSecret:
    """The account's signing secret, created on first use."""
    secret, _ = WebhookSecret.objects.get_or_create(account=account, defaults={"secret": signatures.secret_generate()})
    return secret


@transaction.atomic
def webhook_secret_rotate(*, account: Account) -> WebhookSecret:
    """Replace the signing secret; the old one keeps signing (second signature) during the overlap."""
    secret = webhook_secret_get_or_create(account=account)
    secret = WebhookSecret.objects.select_for_update().get(pk=secret.pk)
    now = timezone.now()
    secret.previous_secret = secret.secret
    secret.previous_expires_at = now + timedelta(seconds=int(settings.WEBHOOK_SECRET_ROTATION_OVERLAP_SECONDS))
    secret.secret = signatures.secret_generate()
    secret.rotated_at = now
    secret.save(update_fields=["secret", "previous_secret", "previous_expires_at", "rotated_at"])
    audit_record(
        account_id=account.pk,
        type=AuditEventType.WEBHOOK_SECRET_ROTATED,
        subject_type="webhookSecret",
        subject_id=secret.pk,
        details={"previousValidUntil": secret.previous_expires_at.isoformat()},
    )
    return secret


def webhook_secrets_for_signing(*, secret: WebhookSecret) -> list[str]:
    """The live secrets, newest first: the current one, plus the previous one during its overlap."""
    live = [secret.secret]
    if secret.previous_secret and secret.previous_expires_at and secret.previous_expires_at > timezone.now():
        live.append(secret.previous_secret)
    return live


def webhook_secrets_rotate_due(*, now: datetime | None = None) -> int:
    """Rotate every secret last set more than WEBHOOK_SECRET_ROTATION_DAYS ago; returns how many (idempotent)."""
    days = int(settings.WEBHOOK_SECRET_ROTATION_DAYS)
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    due = WebhookSecret.objects.annotate(last_set=Coalesce("rotated_at", "created_at")).filter(last_set__lt=cutoff)
    rotated = 0
    for secret in due.select_related("account"):
        with transaction.atomic():
            fresh = WebhookSecret.objects.select_for_update().get(pk=secret.pk)
            if (fresh.rotated_at or fresh.created_at) < cutoff:
                webhook_secret_rotate(account=secret.account)
                rotated += 1
    return rotated
