"""Integrator accounts and their API keys."""

from __future__ import annotations

import uuid

from django.db import models


class Account(models.Model):
    """An integrator. Everything an account owns is invisible to other accounts."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Origins (scheme://host[:port]) a session may redirect to when a config
    # allows redirect overrides; see the signing/redirect rules.
    allowed_redirect_origins = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    # DRF treats request.user as the principal: an account is always authenticated.
    @property
    def is_authenticated(self) -> bool:
        return True


class ApiKey(models.Model):
    """An API key, stored only as a lookup prefix and a keyed hash of the whole key."""

    class Kind(models.TextChoices):
        SECRET = "secret", "Secret (server-side API)"
        PUBLISHABLE = "publishable", "Publishable (may only start checks)"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.SECRET)
    prefix = models.CharField(max_length=32, unique=True, editable=False)
    hashed_key = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # CIDR networks (IPv4 or IPv6) this key may be used from; empty: anywhere.
    allowed_networks = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.account})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
