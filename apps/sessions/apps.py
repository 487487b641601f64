from __future__ import annotations

from django.apps import AppConfig


class SessionsConfig(AppConfig):
    name = "apps.sessions"
    # The label predates the rename: tables, migrations and admin URLs keep "capture".
    label = "capture"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here: app modules that touch models may load only once the app registry is ready.
        from apps.core.metrics import metrics_collector_register
        from apps.faces.comparison import session_lookup_register
        from apps.users.ports import sessions_port_register

        from .metrics import SessionStatusCollector
        from .selectors import session_exists
        from .user_port import SessionsForUsers

        session_lookup_register(session_exists)
        sessions_port_register(SessionsForUsers())
        metrics_collector_register(SessionStatusCollector(), reads_database=True)
