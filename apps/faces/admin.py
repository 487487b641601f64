from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.accounts.branding import BrandingError, accent_color_check
from apps.webhooks.ssrf import check_url_on_save

from .models import Face, FaceCollection, PartnerProfile, SelfieCheck
from .selectors import HIDDEN_COLLECTION_PREFIX
from .services import collection_delete, face_delete


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
        """The rule of every brand colour (apps/accounts/branding.py): the /verif/ buttons hold white text on it."""
        try:
            return accent_color_check(self.cleaned_data.get("accent_color") or "")
        except BrandingError as exc:
            raise forms.ValidationError(str(exc)) from exc


@admin.register(PartnerProfile)
class PartnerProfileAdmin(admin.ModelAdmin):
    form = PartnerProfileForm
    list_display = ["account", "display_name", "webhook_url"]


@admin.register(FaceCollection)
class FaceCollectionAdmin(admin.ModelAdmin):
    """Read-only: collections are the API's (an added one had no dimension, a 500; an edited account moved a
    collection, faces and all, to another tenant). A delete goes through ``collection_delete`` (the session
    embeddings, the search index). The Entry users' collection is not shown: deleting it here left every user
    without a face; a user is deleted with their face in the Entry users admin."""

    list_display = ["collection_id", "account", "engine", "model_version", "version", "updated_at"]
    readonly_fields = ["account", "collection_id", "engine", "model_version", "dimension", "version"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[FaceCollection]:
        return super().get_queryset(request).exclude(collection_id__startswith=HIDDEN_COLLECTION_PREFIX)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: FaceCollection | None = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: FaceCollection) -> None:
        collection_delete(account=obj.account, collection_id=obj.collection_id)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[FaceCollection]) -> None:
        for collection in queryset.select_related("account"):
            collection_delete(account=collection.account, collection_id=collection.collection_id)


@admin.register(Face)
class FaceAdmin(admin.ModelAdmin):
    """Read-only; a delete goes through ``face_delete`` (the session embeddings, the search index, the audit)."""

    list_display = ["face_id", "collection", "external_id", "first_seen_at", "last_seen_at"]
    exclude = ["embedding"]
    readonly_fields = ["face_id", "collection", "external_id", "first_seen_at", "last_seen_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # an added face had no collection: a 500

    def has_change_permission(self, request: HttpRequest, obj: Face | None = None) -> bool:
        return False  # an external id taken in the collection broke its unique constraint: a 500

    def delete_model(self, request: HttpRequest, obj: Face) -> None:
        face_delete(account=obj.collection.account, face_id=obj.face_id)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Face]) -> None:
        for face in queryset.select_related("collection__account"):
            face_delete(account=face.collection.account, face_id=face.face_id)


@admin.register(SelfieCheck)
class SelfieCheckAdmin(admin.ModelAdmin):
    """Read-only: a check is what the engine found. Deleting one deletes its files too (selfie_check_deleted)."""

    list_display = ["id", "account", "user_identifier", "status", "created_at", "files_purged_at"]
    readonly_fields = ["result"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: SelfieCheck | None = None) -> bool:
        return False
