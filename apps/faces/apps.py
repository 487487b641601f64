from __future__ import annotations

from django.apps import AppConfig


class FacesConfig(AppConfig):
    name = "apps.faces"
    label = "faces"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from .models import SelfieCheck
        from .selfie_id import selfie_check_deleted

        post_delete.connect(selfie_check_deleted, sender=SelfieCheck, dispatch_uid="faces.selfie_check_deleted")
