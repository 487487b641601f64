from __future__ import annotations

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from apps.webhooks.ssrf import check_url_on_save

from .models import Face, FaceCollection, PartnerProfile, SelfieCheck


class PartnerProfileForm(forms.ModelForm):
    webhook_url = forms.URLField(required=False, max_length=2000, assume_scheme="https")

    class Meta:
        model = PartnerProfile
        fields = ["account", "display_name", "accent_color", "webhook_url"]

    def clean_webhook_url(self) -> str:
        url = self.cleaned_data.get("webhook_url") or ""
        if url:
            try:
                check_url_on_save(url)
            except ValueError as exc:
                raise forms.ValidationError(str(exc)) from exc
        return url

    def clean_accent_color(self) -> str:
        color = self.cleaned_data.get("accent_color") or ""
        if len(color) != 7 or not color.startswith("#") or any(c not in "0123456789abcdefABCDEF" for c in color[1:]):
            raise forms.ValidationError("Use a colour like #2457d6.")
        return color


@admin.register(PartnerProfile)
class PartnerProfileAdmin(admin.ModelAdmin):
    form = PartnerProfileForm
    list_display = ["account", "display_name", "webhook_url"]


@admin.register(FaceCollection)
class FaceCollectionAdmin(admin.ModelAdmin):
    list_display = ["collection_id", "account", "engine", "model_version", "version", "updated_at"]
    readonly_fields = ["engine", "model_version", "dimension", "version"]


@admin.register(Face)
class FaceAdmin(admin.ModelAdmin):
    list_display = ["face_id", "collection", "external_id", "first_seen_at", "last_seen_at"]
    exclude = ["embedding"]
    readonly_fields = ["face_id", "collection", "first_seen_at", "last_seen_at"]


@admin.register(SelfieCheck)
class SelfieCheckAdmin(admin.ModelAdmin):
    """Read-only: a check is what the engine found. Deleting one deletes its files too (selfie_check_deleted)."""

    list_display = ["id", "account", "user_identifier", "status", "created_at", "files_purged_at"]
    readonly_fields = ["result"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: SelfieCheck | None = None) -> bool:
        return False
