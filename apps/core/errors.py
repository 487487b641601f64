"""The one domain error and the one JSON error shape.

Every 4xx/5xx under ``/v1/`` answers::

    {"error": {"code": "...", "message": "...", "fields": {"a.b": ["..."]}}}
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import SuspiciousOperation, TooManyFieldsSent, TooManyFilesSent
from django.http import JsonResponse

# Paths whose errors answer in the JSON error shape: our API and the iLive (002) compatible one.
API_PREFIXES = ("/v1/", "/api/v1/")


class ApplicationError(Exception):
    """A domain error a service raises; the API layer renders it as JSON."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid",
        status: int = 400,
        fields: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.fields = fields or {}
        self.headers = headers or {}  # e.g. Retry-After on a 429


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def error_response(
    status: int, code: str, message: str, fields: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> JsonResponse:
    response = JsonResponse(error_body(code, message, fields), status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def suspicious_request_message(exc: SuspiciousOperation) -> str:
    """What a 400 ``invalid`` says for a request Django refuses as suspicious (too many parameters or files, a
    bad Host): Django answers those 400 itself; under the API they were 500s. Only the messages that echo no
    input are passed on."""
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return str(exc)
    return "The request was refused as malformed."
