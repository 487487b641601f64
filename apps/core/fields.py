"""Strict DRF fields shared by every area's API: JSON types are never coerced."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError

from .patterns import HTTP_URL_PATTERN, NON_BLANK_TEXT_PATTERN, TEXT_PATTERN, pattern_matches


class StrictCharField(serializers.CharField):
    """Only JSON strings; DRF's own field turns ``42`` into ``"42"``. Whitespace is kept as sent.

    ``pattern`` is what the OpenAPI schema publishes for the field (apps/core/schema.py),
    and exactly what this field accepts: no NUL, and not blank unless ``allow_blank``.
    """

    default_error_messages = {"invalid": "Must be a JSON string.", "pattern": "Must match {pattern}."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        self.pattern: str | None = kwargs.pop("pattern", None)
        # The OpenAPI "format" of the field's strings, if any (a URL field says "uri").
        self.schema_format: str | None = kwargs.pop("schema_format", getattr(self, "schema_format", None))
        super().__init__(**kwargs)

    @property
    def schema_pattern(self) -> str:
        return self.pattern or (TEXT_PATTERN if self.allow_blank else NON_BLANK_TEXT_PATTERN)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        if not data.strip() and not self.allow_blank:
            self.fail("blank")
        value = super().to_internal_value(data)
        if self.pattern is not None and not pattern_matches(self.pattern, value):
            self.fail("pattern", pattern=self.pattern)
        return value


URL_MAX_LENGTH = 2048


class HttpUrlField(StrictCharField):
    """An absolute http(s) URL. Plain http is refused unless ALLOW_HTTP_OUTBOUND is on."""

    default_error_messages = {
        "invalid_url": "Enter a valid absolute http(s) URL.",
        "https_required": "Only https:// URLs are allowed here.",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", URL_MAX_LENGTH)
        super().__init__(**kwargs)

    schema_format: str | None = "uri"

    @property
    def schema_pattern(self) -> str:
        return HTTP_URL_PATTERN

    def to_internal_value(self, data: Any) -> str:
        url = super().to_internal_value(data)
        try:
            URLValidator(schemes=["http", "https"])(url)
        except DjangoValidationError:
            self.fail("invalid_url")
        if url.lower().startswith("http://") and not settings.ALLOW_HTTP_OUTBOUND:
            self.fail("https_required")
        return url


class StrictBooleanField(serializers.BooleanField):
    """Only JSON ``true``/``false``; DRF's own field would accept ``"yes"``, ``1``, ``"true"``."""

    default_error_messages = {"invalid": "Must be a JSON boolean (true or false)."}

    def to_internal_value(self, data: Any) -> bool:
        if data is True or data is False:
            return data
        self.fail("invalid")
        raise AssertionError  # unreachable: fail() raises


class StrictIntegerField(serializers.IntegerField):
    """Only JSON integers; DRF's own field accepts ``"18"``, ``18.0`` and ``true``."""

    default_error_messages = {"invalid": "Must be a JSON integer."}

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictFloatField(serializers.FloatField):
    """Only JSON numbers (integers too); DRF's own field accepts ``"0.5"`` and ``true``."""

    default_error_messages = {"invalid": "Must be a JSON number."}

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictChoiceField(serializers.ChoiceField):
    """A JSON string that is exactly one of the enum's values (case-sensitive)."""

    default_error_messages = {
        "invalid": "Must be a JSON string.",
        "invalid_choice": '"{input}" is not one of: {allowed}.',
    }

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        if data not in self.choices:
            self.fail("invalid_choice", input=data, allowed=", ".join(str(c) for c in self.choices))
        return data


class StrictSerializer(serializers.Serializer):
    """Rejects keys it does not declare, reporting them next to every other field error."""

    unknown_field_message = "Unknown field."
    # OpenAPI (apps/core/schema.py SchemaExtraExtension): a closed object, as to_internal_value enforces.
    schema_extra: dict[str, Any] = {"additionalProperties": False}

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        unknown = [key for key in data if key not in self.fields] if isinstance(data, Mapping) else []
        errors: dict[str, Any] = {}
        value: dict[str, Any] = {}
        try:
            value = super().to_internal_value(data)
        except ValidationError as exc:
            if not isinstance(exc.detail, dict):
                raise
            errors.update(exc.detail)
        for key in unknown:
            errors[str(key)] = [ErrorDetail(self.unknown_field_message, code="unknown_field")]
        if errors:
            raise ValidationError(errors)
        return value


class StrictUUIDField(serializers.UUIDField):
    """A UUID as a JSON string; DRF's own field also accepts integers."""

    default_error_messages = {"invalid": "Must be a valid UUID."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("format", "hex_verbose")
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class QueryIntegerField(serializers.IntegerField):
    """An integer query parameter with a default: ``?page=`` (present but blank) is refused, not read as absent.

    DRF reads a blank value in form or query data as a missing one, so the default would answer a request
    that its schema (an integer) calls malformed.
    """

    def get_value(self, dictionary: Any) -> Any:
        if self.field_name in dictionary and dictionary.get(self.field_name) == "":
            return ""
        return super().get_value(dictionary)
