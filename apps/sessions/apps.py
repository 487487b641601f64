from __future__ import annotations

from django.apps import AppConfig


class SessionsConfig(AppConfig):
    name = "apps.sessions"
    # The label predates the rename: tables, migrations and admin URLs keep "capture".
    label = "capture"
    default_auto_field = "django.db.models.BigAutoField"
