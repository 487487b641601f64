"""OpenAPI helpers shared by every API view."""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import get_class
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

from .fields import StrictCharField

_ERROR_DESCRIPTIONS = {
    400: "Bad Request - invalid parameters; `error.fields` names each offending field",
    401: "Unauthorized - missing or invalid authentication",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    410: "Gone - expired or already used",
    413: "Payload Too Large",
    415: "Unsupported Media Type - send the body as application/json",
    429: "Too Many Requests",
    503: "Service Unavailable - too many captures under way (`unavailable`); retry after `Retry-After` seconds",
}

ErrorSerializer = inline_serializer(
    "Error",
    {
        "error": inline_serializer(
            "ErrorDetail",
            {
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "fields": serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
            },
        )
    },
)


def ERROR_RESPONSES(*codes: int) -> dict[int, OpenApiResponse]:  # noqa: N802 - reads like a constant at call sites
    """OpenAPI responses for the given error codes, all in the one error shape."""
    return {code: OpenApiResponse(ErrorSerializer, description=_ERROR_DESCRIPTIONS[code]) for code in codes}


class AutoSchema(openapi.AutoSchema):
    """Names a view's nested InputSerializer/OutputSerializer after the view (SignatureCreateInput).

    Without this, every view's nested ``OutputSerializer`` collides on one
    component name and the schema silently shows the wrong body.
    """

    def _get_serializer_name(self, serializer: Any, direction: str, bypass_extensions: bool = False) -> str:
        name = super()._get_serializer_name(serializer, direction, bypass_extensions)
        outer, _, inner = type(serializer).__qualname__.rpartition(".")
        if outer and "<locals>" not in outer and inner in ("InputSerializer", "OutputSerializer"):
            prefix = outer.split(".")[-1].removesuffix("View")
            if not name.startswith(prefix):
                name = prefix + name
        return name

    def _get_request_for_media_type(self, serializer: Any, direction: str = "request") -> tuple[Any, bool]:
        schema, required = super()._get_request_for_media_type(serializer, direction)
        # A body whose fields are each optional but which needs one of them (anyOf) is itself required.
        return schema, required or bool(getattr(get_class(serializer), "schema_body_required", False))


class StrictCharFieldExtension(OpenApiSerializerFieldExtension):
    """A strict text field publishes the very pattern it enforces (no NUL, not blank, its own rule)."""

    target_class = StrictCharField
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        schema["pattern"] = self.target.schema_pattern
        if self.target.schema_format:
            schema["format"] = self.target.schema_format
        return schema


class SchemaExtraExtension(OpenApiSerializerExtension):
    """A request serializer's ``schema_extra`` (JSON Schema keywords such as ``anyOf`` or ``not``).

    For rules that span fields (one of two fields required, a flag that needs another), which
    the per-field mapping cannot say; the serializer's ``validate`` enforces the same rule.
    """

    target_class = "rest_framework.serializers.Serializer"
    priority = 1  # before any extension that matches the serializer's base class

    @classmethod
    def _matches(cls, target: Any) -> bool:
        return isinstance(getattr(get_class(target), "schema_extra", None), dict)

    def map_serializer(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_basic_serializer(self.target, direction)
        if direction == "request":
            schema.update(self.target.schema_extra)
        return schema
