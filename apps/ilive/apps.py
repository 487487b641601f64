from __future__ import annotations

from django.apps import AppConfig


class IliveConfig(AppConfig):
    """The iLive (002) wire format over the sessions app: its paths, snake_case fields, token and socket."""

    name = "apps.ilive"
    label = "ilive"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here: app modules that touch models may load only once the app registry is ready.
        from apps.sessions.webhook_formats import session_webhook_format_register

        from .services import WEBHOOK_FORMAT, ilive_result_payload

        # 002: "iLive POSTs the result when the session completes": the body of GET /api/v1/session/{id}/result.
        session_webhook_format_register(name=WEBHOOK_FORMAT, body=lambda session: ilive_result_payload(session=session))
