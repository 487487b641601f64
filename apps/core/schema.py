"""OpenAPI helpers shared by every API view."""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

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
