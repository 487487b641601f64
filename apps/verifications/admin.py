"""Admin for verification configurations.

The form validates through ``verification_input_parse`` and saves through the
services, so the admin accepts exactly what the API accepts (one code path).
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from apps.core.errors import ApplicationError

from .enums import AgeType, ChallengeType, FaceRecognitionType, GenderType, LivenessType
from .models import VerificationConfig
from .selectors import verification_name_taken
from .services import (
    CONFLICT_MESSAGE,
    verification_create,
    verification_delete,
    verification_duplicate,
    verification_input_parse,
    verification_update,
)

CONFIG_PREFIX = "verificationConfig."
EXAMPLE_CONFIG = {
    "verifierConfigs": {
        "liveness": {"type": LivenessType.VERIFICATION.value, "challengeType": ChallengeType.BALANCED.value},
        "age": {"type": AgeType.DISABLED.value},
        "gender": {"type": GenderType.DISABLED.value},
        "faceRecognition": {"type": FaceRecognitionType.DISABLED.value},
    }
}


class PrettyJSONField(forms.JSONField):
    """A JSON textarea that shows the value indented, so an operator can read and edit it."""

    def prepare_value(self, value: Any) -> str:
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False)


class VerificationConfigForm(forms.ModelForm):
    verification_config = PrettyJSONField(
        label="verificationConfig",
        help_text="The JSON object the API takes as verificationConfig; validated exactly as the API validates it.",
        widget=forms.Textarea(attrs={"rows": 32, "cols": 100, "style": "font-family: monospace"}),
    )

    class Meta:
        model = VerificationConfig
        fields = ["account", "name"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A new instance already has a (default) UUID pk, so "adding" is the reliable test.
        self.adding = self.instance._state.adding
        self.fields["verification_config"].initial = EXAMPLE_CONFIG if self.adding else self.instance.submitted_config
        # The API's own rules decide what a valid name is; the model field's would only duplicate them.
        name_field = self.fields.get("name")
        if isinstance(name_field, forms.CharField):
            name_field.strip = False

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if "verification_config" not in cleaned or "name" not in cleaned:
            return cleaned  # the field errors already explain what is wrong
        try:
            parsed = verification_input_parse(name=cleaned["name"], verification_config=cleaned["verification_config"])
        except ApplicationError as exc:
            for path, problems in exc.fields.items():
                field = "name" if path == "name" else "verification_config"
                self.add_error(field, [f"{path}: {problem}" for problem in problems])
            return cleaned
        account = cleaned.get("account") if self.adding else self.instance.account
        exclude_id = None if self.adding else self.instance.pk
        if account is not None and verification_name_taken(account=account, name=parsed.name, exclude_id=exclude_id):
            self.add_error("name", CONFLICT_MESSAGE)
        return cleaned

    def validate_unique(self) -> None:
        """Name uniqueness is checked in clean() by the same rule the API uses."""


@admin.register(VerificationConfig)
class VerificationConfigAdmin(admin.ModelAdmin):
    form = VerificationConfigForm
    list_display = (
        "name",
        "account",
        "liveness",
        "age",
        "gender",
        "face_recognition",
        "webhook",
        "last_modified",
    )
    list_filter = ("account",)
    search_fields = ("name", "id", "account__name")
    ordering = ("account__name", "name")
    readonly_fields = ("id", "created", "last_modified", "normalised_config")
    actions = ["duplicate"]

    def get_readonly_fields(self, request: HttpRequest, obj: VerificationConfig | None = None) -> tuple[str, ...]:
        # A config never moves between accounts: sessions and collections are per account.
        return (*self.readonly_fields, "account") if obj is not None else self.readonly_fields

    def get_fields(self, request: HttpRequest, obj: VerificationConfig | None = None) -> tuple[str, ...]:
        fields = ("account", "name", "verification_config")
        return (*fields, "id", "created", "last_modified", "normalised_config") if obj is not None else fields

    def save_model(self, request: HttpRequest, obj: VerificationConfig, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        if change:
            saved = verification_update(
                account=obj.account,
                verification_id=obj.pk,
                name=data["name"],
                verification_config=data["verification_config"],
            )
        else:
            saved = verification_create(
                account=data["account"], name=data["name"], verification_config=data["verification_config"]
            )
        obj.pk = saved.pk
        obj.refresh_from_db()

    def delete_model(self, request: HttpRequest, obj: VerificationConfig) -> None:
        verification_delete(account=obj.account, verification_id=obj.pk)  # audited, as the API's delete

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[VerificationConfig]) -> None:
        for config in queryset.select_related("account"):
            verification_delete(account=config.account, verification_id=config.pk)

    # --- readable columns -------------------------------------------------------------------

    @admin.display(description="liveness")
    def liveness(self, obj: VerificationConfig) -> str:
        block = obj.typed_config.verifiers.liveness
        return block.challenge_type.value if block.enabled else block.type.value

    @admin.display(description="age")
    def age(self, obj: VerificationConfig) -> str:
        block = obj.typed_config.verifiers.age
        if block.type == AgeType.THRESHOLD_VERIFICATION:
            return f"{block.direction.value} {block.threshold}"
        return block.type.value

    @admin.display(description="gender")
    def gender(self, obj: VerificationConfig) -> str:
        return obj.typed_config.verifiers.gender.type.value

    @admin.display(description="face recognition")
    def face_recognition(self, obj: VerificationConfig) -> str:
        block = obj.typed_config.verifiers.face_recognition
        return f"{block.type.value} ({block.collection_id})" if block.enabled else block.type.value

    @admin.display(description="webhook", boolean=True)
    def webhook(self, obj: VerificationConfig) -> bool:
        return obj.typed_config.webhook.event_callback_url is not None

    @admin.display(description="normalised config (defaults filled in, as sessions see it)")
    def normalised_config(self, obj: VerificationConfig) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.config, indent=2, ensure_ascii=False))

    # --- actions ----------------------------------------------------------------------------

    @admin.action(description="Duplicate selected configurations", permissions=["add"])
    def duplicate(self, request: HttpRequest, queryset: QuerySet[VerificationConfig]) -> None:
        for verification in queryset:
            try:
                copy = verification_duplicate(verification=verification)
            except ApplicationError as exc:
                messages.error(request, f"Could not duplicate {verification.name!r}: {exc.message}")
                continue
            messages.success(request, f"Duplicated {verification.name!r} as {copy.name!r}.")
