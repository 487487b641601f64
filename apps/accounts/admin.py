"""Admin: accounts and keys. A new key's plaintext is shown once, in a message."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import Account, ApiKey
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


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("name", "id", "created_at")
    search_fields = ("name", "id")
    inlines = [ApiKeyInline]
    actions = ["create_secret_key", "create_publishable_key"]

    def _create_key(self, request: HttpRequest, queryset: QuerySet[Account], kind: str) -> None:
        for account in queryset:
            issued = api_key_create(account=account, name="admin", kind=kind)
            messages.warning(request, f"New key for {account.name} (shown only once): {issued.plaintext}")

    @admin.action(description="Create a secret API key (shown once)")
    def create_secret_key(self, request: HttpRequest, queryset: QuerySet[Account]) -> None:
        self._create_key(request, queryset, ApiKey.Kind.SECRET)

    @admin.action(description="Create a publishable key (shown once)")
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

    @admin.action(description="Revoke selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for api_key in queryset:
            api_key_revoke(api_key=api_key)
        messages.success(request, f"Revoked {queryset.count()} key(s).")
