from __future__ import annotations

from django.apps import AppConfig


class SigningConfig(AppConfig):
    name = "apps.signing"
    label = "signing"
    default_auto_field = "django.db.models.BigAutoField"
