from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import EntryUser
from .services import user_delete


@admin.register(EntryUser)
class EntryUserAdmin(admin.ModelAdmin):
    """Read-only: users are created and enrolled through the API (their face lives with faces).

    Deleting one here goes through ``user_delete``, as the API's does: the face, the sessions' personal
    fields and the audit event go with it.
    """

    list_display = ["external_id", "id", "account", "date_of_birth", "face", "created_at"]
    list_filter = ["account"]
    search_fields = ["external_id", "id"]
    readonly_fields = [f.name for f in EntryUser._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: EntryUser | None = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: EntryUser) -> None:
        user_delete(account=obj.account, entry_user_id=obj.id)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[EntryUser]) -> None:
        for user in queryset.select_related("account"):
            user_delete(account=user.account, entry_user_id=user.id)
