from __future__ import annotations

from django.apps import AppConfig


class FacesConfig(AppConfig):
    name = "apps.faces"
    label = "faces"
    default_auto_field = "django.db.models.BigAutoField"
