"""Verification configurations: reusable, named per account, referenced by sessions."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from apps.accounts.models import Account

from .session_config import SessionConfig, session_config_cached


class VerificationConfig(models.Model):
    """One named ``verificationConfig`` of an account.

    ``config`` is the normalised form (every default filled in) that sessions
    read; ``submitted_config`` is exactly what the integrator sent, which
    ``GET /v1/verification/get`` answers so a config comes back as it went in.
    Both are written only by the services in ``services.py``, after validation.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, verbose_name="verification id")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="verification_configs")
    name = models.CharField(max_length=200)
    config = models.JSONField(verbose_name="normalised verificationConfig")
    submitted_config = models.JSONField(verbose_name="verificationConfig as submitted")
    created = models.DateTimeField(default=timezone.now, editable=False)
    last_modified = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created", "id"]
        verbose_name = "verification configuration"
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="verification_config_unique_name_per_account"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def typed_config(self) -> SessionConfig:
        """``config`` as typed values (what a session created from this configuration starts from)."""
        return session_config_cached(self, self.config)
