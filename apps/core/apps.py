from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from axes.signals import user_locked_out

        from .metrics import admin_login_locked_out, metrics_collector_register
        from .periodic import PeriodicJobCollector

        user_locked_out.connect(admin_login_locked_out, dispatch_uid="liveproof-metrics-axes-lockout")
        metrics_collector_register(PeriodicJobCollector(), reads_database=True)
