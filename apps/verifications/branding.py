"""``brandingConfig``: the integrator's brand on the hosted pages, per verification config (docs/branding.md).

Every field is optional; one left out falls back to the account's brand (admin-editable),
then to Liveproof's own look. The rules (logo types and size, WCAG AA contrast, https
links) are ``apps.accounts.branding``'s. A ``logo`` (base64) is checked and stored once
by content; the normalised config keeps its ``logoId``, which a later submission may
send instead of the image.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rest_framework import serializers

from apps.accounts.branding import (
    COLOR_PATTERN,
    DISPLAY_NAME_MAX,
    LOGO_MAX_BYTES,
    BrandingError,
    accent_color_check,
    brand_logo_store,
    https_url_check,
)
from apps.core.fields import StrictCharField, StrictSerializer

LOGO_ID_PATTERN = r"^[0-9a-f]{64}$"
BASE64_PATTERN = r"^[A-Za-z0-9+/=\s]+$"


def _checked(check: Any, value: str) -> str:
    try:
        return str(check(value))
    except BrandingError as exc:
        raise serializers.ValidationError(str(exc), code="branding") from exc


class AccentColorField(StrictCharField):
    def to_internal_value(self, data: Any) -> str:
        return _checked(accent_color_check, super().to_internal_value(data))


class HttpsUrlField(StrictCharField):
    schema_format = "uri"

    def to_internal_value(self, data: Any) -> str:
        from django.core.exceptions import ValidationError as DjangoValidationError
        from django.core.validators import URLValidator

        url = _checked(https_url_check, super().to_internal_value(data))
        try:
            URLValidator(schemes=["https"])(url)
        except DjangoValidationError as exc:
            raise serializers.ValidationError("Enter a valid absolute https URL.", code="invalid_url") from exc
        return url


class LogoField(StrictCharField):
    """A base64 PNG, JPEG or WebP; stored, and answered as its id."""

    def to_internal_value(self, data: Any) -> str:
        text = super().to_internal_value(data)
        try:
            raw = base64.b64decode("".join(text.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise serializers.ValidationError("Must be base64 (standard alphabet).", code="invalid") from exc
        return _checked(brand_logo_store, raw)  # type: ignore[arg-type]


class LogoIdField(StrictCharField):
    def to_internal_value(self, data: Any) -> str:
        from apps.accounts.models import BrandLogo

        logo_id = super().to_internal_value(data)
        if not BrandLogo.objects.filter(sha256=logo_id).exists():
            raise serializers.ValidationError("No logo has this id: send the image as logo.", code="not_found")
        return logo_id


class BrandingConfigSerializer(StrictSerializer):
    """brandingConfig: name, logo, accent colour and links on the hosted consent and result screens."""

    displayName = StrictCharField(
        required=False, max_length=DISPLAY_NAME_MAX, help_text="Your name as the person verifying sees it."
    )
    logo = LogoField(
        required=False,
        max_length=LOGO_MAX_BYTES * 4 // 3 + 8,
        pattern=BASE64_PATTERN,
        help_text="The logo image, base64: PNG, JPEG or WebP, at most 150 KB and 2048 px a side (SVG is refused). "
        "Stored and served by Liveproof; GET answers it as sent.",
    )
    logoId = LogoIdField(
        required=False,
        pattern=LOGO_ID_PATTERN,
        help_text="A logo stored before (the SHA-256 of its bytes), instead of sending the image again.",
    )
    accentColor = AccentColorField(
        required=False,
        pattern=COLOR_PATTERN,
        help_text="Buttons and links, as #rrggbb; refused below 4.5:1 contrast against white (WCAG AA).",
    )
    privacyPolicyUrl = HttpsUrlField(required=False, max_length=2048, help_text="Your privacy policy (https).")
    supportUrl = HttpsUrlField(required=False, max_length=2048, help_text="Where to get help (https).")

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        value = super().to_internal_value(data)
        if "logo" in value and "logoId" in value:
            raise serializers.ValidationError({"logoId": ["Send logo or logoId, not both."]})
        logo_id = value.pop("logo", None) or value.get("logoId")
        return {
            "displayName": value.get("displayName"),
            "logoId": logo_id,
            "accentColor": value.get("accentColor"),
            "privacyPolicyUrl": value.get("privacyPolicyUrl"),
            "supportUrl": value.get("supportUrl"),
        }


def _text(block: Mapping[str, Any], key: str) -> str | None:
    value = block.get(key)
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class BrandingConfig:
    """A config's brand; None where the config leaves it to the account."""

    display_name: str | None = None
    logo_id: str | None = None
    accent_color: str | None = None
    privacy_policy_url: str | None = None
    support_url: str | None = None

    @classmethod
    def from_json(cls, block: Mapping[str, Any]) -> BrandingConfig:
        return cls(*(_text(block, key) for key in ("displayName", "logoId", "accentColor", "privacyPolicyUrl",
                                                     "supportUrl")))  # fmt: skip
