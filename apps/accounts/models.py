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
    # The brand on the hosted pages (apps/accounts/branding.py, docs/branding.md); a verification config's
    # brandingConfig overrides each. Admin-editable only: accounts have no API.
    brand_display_name = models.CharField(max_length=80, blank=True)
    brand_logo = models.ForeignKey("BrandLogo", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    brand_accent_color = models.CharField(max_length=7, blank=True)
    brand_privacy_url = models.URLField(max_length=2048, blank=True)
    brand_support_url = models.URLField(max_length=2048, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    # DRF treats request.user as the principal: an account is always authenticated.
    @property
    def is_authenticated(self) -> bool:
        return True


class BrandLogo(models.Model):
    """An uploaded logo, stored once by content and served by us at ``/brand/logo/<sha256>``."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    content_type = models.CharField(max_length=20)
    data = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"logo {self.sha256[:12]} ({self.content_type}, {len(self.data)} bytes)"


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
