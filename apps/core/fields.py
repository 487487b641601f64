"""Strict DRF fields shared by every area's API: JSON types are never coerced."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from .patterns import NON_BLANK_TEXT_PATTERN, TEXT_PATTERN, pattern_matches


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
