"""Per-account signing secrets and consumed nonces."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class SigningSecret(models.Model):
    """One generation of an account's signing secret.

    Only a random salt is stored: the secret itself is derived from it with a key
    derived from SECRET_KEY (see ``services.signing_secret_value``), so a copy of
    the database alone cannot forge signatures. The newest row without
    ``retired_at`` is current; retired rows stay valid for the configured overlap.
    """

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="signing_secrets")
    salt = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Two first-use requests racing to create the secret must not both win.
            models.UniqueConstraint(
                fields=["account"], condition=Q(retired_at__isnull=True), name="signing_one_current_secret"
            )
        ]

    def __str__(self) -> str:
        return f"signing secret of {self.account_id} ({'current' if self.retired_at is None else 'retired'})"


class UsedNonce(models.Model):
    """A ``reNonce`` that already started a session; the unique constraint makes reuse fail atomically."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="used_nonces")
    nonce = models.CharField(max_length=32)
    # The link's reExpiration: after it the link is refused as expired anyway, so the row can go.
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(default=timezone.now)
    session_id = models.UUIDField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "nonce"], name="signing_nonce_used_once")]

    def __str__(self) -> str:
        return self.nonce
