"""Webhook endpoints, signing secrets, events, deliveries and delivery attempts.

The database is the source of truth: an event and its delivery row are written
in the transaction that changes the session, and Celery/Redis only carry the
delivery id. A delivery is "in flight" while its lease is held.
"""

from __future__ import annotations

import uuid

from django.db import models

from apps.accounts.models import Account

from .event_types import EventType


def new_event_id() -> str:
    """A fresh event id; it is the ``webhook-id`` header on every attempt of the event."""
    return f"msg_{uuid.uuid4().hex}"


class WebhookSecret(models.Model):
    """The account's Standard Webhooks signing secret, with the previous one kept during rotation."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="webhook_secret")
    secret = models.CharField(max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Webhook secret of {self.account}"


class WebhookEndpoint(models.Model):
    """One receiving URL of one account. A 410 answer disables it until re-enabled."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.CharField(max_length=2048)
    disabled = models.BooleanField(default=False)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "url"], name="webhook_endpoint_account_url")]
        ordering = ["account", "url"]

    def __str__(self) -> str:
        return self.url


class WebhookEvent(models.Model):
    """Something that happened, with the exact body every attempt sends."""

    id = models.CharField(primary_key=True, max_length=64, default=new_event_id, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="webhook_events")
    type = models.CharField(max_length=64, choices={event.value: event.label for event in EventType})
    session_id = models.UUIDField(null=True, blank=True, db_index=True)
    # The serialised JSON body, byte-for-byte what is signed and sent on every attempt.
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        # The admin's list order and the retention purge's cutoff: one event per session, never sorted whole.
        indexes = [models.Index(fields=["created_at", "id"], name="webhooks_event_created_idx")]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class WebhookDelivery(models.Model):
    """The sending of one event to one endpoint; retried until delivered or failed."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempt_count = models.PositiveIntegerField(default=0)
    # Failures since the last (re)delivery request; indexes the retry schedule.
    failures_in_round = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    leased_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.UUIDField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "endpoint"], name="webhook_delivery_event_endpoint")]
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_at", "id"], name="webhooks_delivery_created_idx")]  # the admin's order
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint.url} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery and what came back."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    response_excerpt = models.TextField(blank=True)

    class Meta:
        ordering = ["delivery", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery {self.delivery_id}"
