from __future__ import annotations

from django.apps import AppConfig


class SigningConfig(AppConfig):
    name = "apps.signing"
    label = "signing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.accounts.admin import AccountForm

        from .redirects import allowed_redirect_origins_clean

        # The account's admin form checks allowed origins by the API's rules (accounts cannot import signing).
        AccountForm.origins_clean = staticmethod(allowed_redirect_origins_clean)
