"""Periodic jobs for the operator: when each last ran, finished and failed (a purge that stopped shows here)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import PeriodicJobRun


@admin.register(PeriodicJobRun)
class PeriodicJobRunAdmin(admin.ModelAdmin):
    list_display = ("name", "last_started_at", "last_finished_at", "last_error", "next_run_at")
    readonly_fields = ("name", "next_run_at", "last_started_at", "last_finished_at", "last_error")
    search_fields = ("name",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: PeriodicJobRun | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: PeriodicJobRun | None = None) -> bool:
        return False
