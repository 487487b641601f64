"""Admin: accounts and keys. A new key's plaintext is shown once, in a message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.core.errors import ApplicationError

from .branding import BrandingError, accent_color_check, brand_logo_store, https_url_check, logo_check
from .models import Account, ApiKey, BrandLogo
from .services import api_key_create, api_key_revoke


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    fields = ("prefix", "name", "kind", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "name", "kind", "created_at", "last_used_at", "revoked_at")
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Account | None = None) -> bool:
        return False


class AccountForm(forms.ModelForm):
    """The account, with its brand checked by the same rules as a config's brandingConfig."""

    logo_upload = forms.FileField(
        required=False, label="Upload a logo", help_text="PNG, JPEG or WebP, at most 150 KB (SVG is not accepted)."
    )

    # Written out for assume_scheme: links are https only (https_url_check), never an assumed http.
    brand_privacy_url = forms.URLField(required=False, max_length=2048, assume_scheme="https")
    brand_support_url = forms.URLField(required=False, max_length=2048, assume_scheme="https")

    # The API's rules for allowed redirect origins (bare, https, no internal host), set by apps.signing, a layer
    # above this one: the list feeds frame-ancestors and the socket's origin check, and the form took anything.
    origins_clean: ClassVar[Callable[[Any], list[str]] | None] = None

    class Meta:
        model = Account
        fields = ["name", "allowed_redirect_origins", "brand_display_name", "brand_logo", "brand_accent_color",
                  "brand_privacy_url", "brand_support_url"]  # fmt: skip

    def _brand(self, name: str, check: Any) -> str:
        value = self.cleaned_data.get(name) or ""
        try:
            return str(check(value)) if value else ""
        except BrandingError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_allowed_redirect_origins(self) -> Any:
        origins = self.cleaned_data.get("allowed_redirect_origins") or []
        if AccountForm.origins_clean is None:
            return origins
        try:
            return AccountForm.origins_clean(origins)
        except ApplicationError as exc:
            problems = [f"{name}: {'; '.join(found)}" for name, found in exc.fields.items()]
            raise forms.ValidationError(problems) from exc

    def clean_brand_accent_color(self) -> str:
        return self._brand("brand_accent_color", accent_color_check)

    def clean_brand_privacy_url(self) -> str:
        return self._brand("brand_privacy_url", https_url_check)

    def clean_brand_support_url(self) -> str:
        return self._brand("brand_support_url", https_url_check)

    def clean_logo_upload(self) -> bytes | None:
        upload = self.cleaned_data.get("logo_upload")
        if not upload:
            return None
        data = upload.read(300 * 1024)
        try:
            logo_check(data)
        except BrandingError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return bytes(data)

    def save(self, commit: bool = True) -> Account:
        account = super().save(commit=False)
        data = self.cleaned_data.get("logo_upload")
        if data:
            account.brand_logo = BrandLogo.objects.get(sha256=brand_logo_store(data))
        if commit:
            account.save()
        return account


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    form = AccountForm
    list_display = ("name", "id", "created_at")
    search_fields = ("name", "id")
    raw_id_fields = ("brand_logo",)
    inlines = [ApiKeyInline]
    actions = ["create_secret_key", "create_publishable_key"]

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        if request.user.is_superuser:
            # An account takes its sessions, keys and the rest along. Their own admins refuse single deletes
            # (sessions go by retention, keys by revocation), which left no way to delete an account at all.
            perms_needed = set()
        return deleted, counts, perms_needed, protected

    def _create_key(self, request: HttpRequest, queryset: QuerySet[Account], kind: str) -> None:
        for account in queryset:
            issued = api_key_create(account=account, name="admin", kind=kind)
            messages.warning(request, f"New key for {account.name} (shown only once): {issued.plaintext}")

    @admin.action(description="Create a secret API key (shown once)", permissions=["change"])
    def create_secret_key(self, request: HttpRequest, queryset: QuerySet[Account]) -> None:
        self._create_key(request, queryset, ApiKey.Kind.SECRET)

    @admin.action(description="Create a publishable key (shown once)", permissions=["change"])
    def create_publishable_key(self, request: HttpRequest, queryset: QuerySet[Account]) -> None:
        self._create_key(request, queryset, ApiKey.Kind.PUBLISHABLE)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("prefix", "account", "name", "kind", "created_at", "last_used_at", "revoked_at")
    list_filter = ("kind", "revoked_at")
    search_fields = ("prefix", "account__name", "name")
    readonly_fields = ("account", "prefix", "kind", "created_at", "last_used_at", "revoked_at")
    fields = ("account", "name", "prefix", "kind", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # keys are created from the account page so the plaintext can be shown once

    def has_delete_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        return False  # "Revoke selected keys" ends a key, audited; a delete did it without a trace

    @admin.action(description="Revoke selected keys", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for api_key in queryset:
            api_key_revoke(api_key=api_key)
        messages.success(request, f"Revoked {queryset.count()} key(s).")
