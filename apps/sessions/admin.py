"""Read-only admin views of sessions: operators look, services write."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import Session


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = ("id", "account", "status", "verification_result", "mode", "attempt", "created_at")
    list_filter = ("status", "verification_result", "mode", "engine")
    search_fields = ("id", "external_id", "account__name")
    date_hierarchy = "created_at"
    exclude = ("icao_jpeg",)

    def get_readonly_fields(self, request: HttpRequest, obj: Session | None = None) -> list[str]:
        return [field.name for field in Session._meta.fields if field.name != "icao_jpeg"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Session | None = None) -> bool:
        return False
