"""Read-only admin views: which accounts have signing secrets, and which nonces were used."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from .models import SigningSecret, UsedNonce


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # A deleted used nonce lets its signed link be opened again; a deleted secret bypasses the rotation.
        return False


@admin.register(SigningSecret)
class SigningSecretAdmin(_ReadOnly):
    # The salt is not shown: with SECRET_KEY it yields the secret. Rotate with
    # `manage.py signing_secret_rotate` or POST /v1/signature/rotate-secret.
    list_display = ["account", "created_at", "retired_at"]
    list_filter = ["retired_at"]
    fields = ["account", "created_at", "retired_at"]


@admin.register(UsedNonce)
class UsedNonceAdmin(_ReadOnly):
    list_display = ["nonce", "account", "used_at", "expires_at", "session_id"]
    search_fields = ["nonce", "session_id"]
