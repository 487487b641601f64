from __future__ import annotations

from django.apps import AppConfig


class IliveConfig(AppConfig):
    """The iLive (002) wire format over the sessions app: its paths, snake_case fields, token and socket."""

    name = "apps.ilive"
    label = "ilive"
    default_auto_field = "django.db.models.BigAutoField"
