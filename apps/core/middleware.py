"""Request guards that must run before any view parses a body."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .errors import API_PREFIXES, error_response

logger = logging.getLogger(__name__)


class ApiBodySizeMiddleware:
    """Answer 413 for oversized API bodies before anything reads them.

    Upload endpoints that accept large files declare their own limit in
    ``API_BODY_LIMITS`` (path prefix -> bytes).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = self._limit_for(request.path)
        if limit is not None:
            if "HTTP_TRANSFER_ENCODING" in request.META and "CONTENT_LENGTH" not in request.META:
                # Django reads a body only up to its Content-Length: a chunked one would be read as empty.
                # `python -m config.serve` sends the length; another ASGI server may not.
                return error_response(411, "length_required", "Send the body with a Content-Length header.")
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return error_response(400, "invalid", "Content-Length is malformed.")
            if length > limit:
                return error_response(413, "too_large", f"The request body exceeds {limit} bytes.")
        return self.get_response(request)

    @staticmethod
    def _limit_for(path: str) -> int | None:
        for prefix, limit in getattr(settings, "API_BODY_LIMITS", {}).items():
            if path.startswith(prefix):
                return int(limit)
        if path.startswith(API_PREFIXES):
            return int(settings.API_MAX_BODY_BYTES)
        return None


class ApiErrorMiddleware:
    """Under /v1/ an unexpected exception is a JSON 500 in the error shape, with DEBUG on too.

    The traceback goes to the log, never to the client.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path.startswith(API_PREFIXES):
            return None
        logger.error("Unhandled error on %s %s", request.method, request.path, exc_info=exception)
        return error_response(500, "server_error", "An internal error occurred.")
