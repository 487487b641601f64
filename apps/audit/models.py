"""The audit trail: an append-only log of security-relevant events, per account.

Rows are never edited or deleted through the app (``save`` of an existing row, ``delete``
and the queryset's ``update``/``delete`` all refuse); only the retention job removes rows
past AUDIT_RETENTION_DAYS, with a raw delete. ``account_id`` is a plain column, not a
foreign key, so the trail outlives nothing it records by accident of a cascade.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models


class AuditEventType(models.TextChoices):
    API_KEY_CREATED = "apiKey.created", "an API key was created"
    API_KEY_REVOKED = "apiKey.revoked", "an API key was revoked"
    API_KEY_NEW_ADDRESS = "apiKey.usedFromNewAddress", "an API key was used from an address it was not used from"
    API_KEY_ADDRESS_REFUSED = "apiKey.addressRefused", "a request with an API key came from outside its allow-list"
    API_KEY_NETWORKS_CHANGED = "apiKey.allowedNetworksChanged", "an API key's IP allow-list changed"
    CONFIG_CREATED = "verification.created", "a verification configuration was created"
    CONFIG_UPDATED = "verification.updated", "a verification configuration was changed"
    CONFIG_DELETED = "verification.deleted", "a verification configuration was deleted"
    SESSION_VERDICT = "session.verdict", "a session got its verdict"
    USER_CREATED = "user.created", "an Entry user was created"
    USER_ENROLLED = "user.enrolled", "an Entry user's face was enrolled"
    USER_DELETED = "user.deleted", "an Entry user was deleted"
    FACE_DELETED = "face.deleted", "a stored face was deleted"
    SIGNING_SECRET_ROTATED = "signingSecret.rotated", "the signing secret was rotated"
    WEBHOOK_SECRET_ROTATED = "webhookSecret.rotated", "the webhook secret was rotated"
    WEBHOOK_ENDPOINT_DISABLED = "webhookEndpoint.disabled", "a webhook endpoint was disabled"
    WEBHOOK_ENDPOINT_ENABLED = "webhookEndpoint.enabled", "a webhook endpoint was enabled again"
    WEBHOOK_TEST_SENT = "webhookEndpoint.testSent", "a test event was sent to a webhook URL"
    WEBHOOK_REDELIVERED = "webhookDelivery.redelivered", "a webhook delivery was queued again"
    ADMIN_LOGIN = "admin.login", "someone signed in to the admin"


class AppendOnlyQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise PermissionError("Audit events cannot be changed.")

    def delete(self) -> NoReturn:
        raise PermissionError("Audit events cannot be deleted.")


class AuditEvent(models.Model):
    id = models.BigAutoField(primary_key=True)
    account_id = models.UUIDField(null=True, blank=True, db_index=True)  # None: not an account's (admin login)
    type = models.CharField(max_length=40, choices=AuditEventType.choices, db_index=True)
    occurred_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.CharField(max_length=200, blank=True)  # "apiKey:<prefix>", "admin:<name>", "system"
    address = models.GenericIPAddressField(null=True, blank=True)
    subject_type = models.CharField(max_length=40, blank=True)
    subject_id = models.CharField(max_length=200, blank=True, db_index=True)
    details = models.JSONField(default=dict, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.type} {self.subject_id} ({self.occurred_at:%Y-%m-%d %H:%M:%S})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise PermissionError("Audit events cannot be deleted.")
