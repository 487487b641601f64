from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import EntryUser


@admin.register(EntryUser)
class EntryUserAdmin(admin.ModelAdmin):
    """Read-only: users are created, enrolled and deleted through the API (their face lives with faces)."""

    list_display = ["external_id", "id", "account", "date_of_birth", "face", "created_at"]
    list_filter = ["account"]
    search_fields = ["external_id", "id"]
    readonly_fields = [f.name for f in EntryUser._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: EntryUser | None = None) -> bool:
        return False
