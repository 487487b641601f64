"""The account's webhook signing secret: created on first use, rotated with an overlap.

Below both the services (which record events) and the delivery code (which signs each request).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Account

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
    return secret


def webhook_secrets_for_signing(*, secret: WebhookSecret) -> list[str]:
    """The live secrets, newest first: the current one, plus the previous one during its overlap."""
    live = [secret.secret]
    if secret.previous_secret and secret.previous_expires_at and secret.previous_expires_at > timezone.now():
        live.append(secret.previous_secret)
    return live
