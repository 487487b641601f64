from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .key_cache import keys_changed
        from .models import Account, ApiKey, BrandLogo

        # A cached key carries its account: any change to either drops cached keys in every process. Deleting a
        # logo sets its accounts' brand_logo to NULL with an UPDATE that sends no signal of Account's.
        for saved in (ApiKey, Account):
            post_save.connect(keys_changed, sender=saved, dispatch_uid=f"api-keys-saved-{saved.__name__}")
        for deleted in (ApiKey, Account, BrandLogo):
            post_delete.connect(keys_changed, sender=deleted, dispatch_uid=f"api-keys-deleted-{deleted.__name__}")
