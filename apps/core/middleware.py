"""Request guards that must run before any view parses a body."""

from __future__ import annotations

import codecs
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

from .errors import API_PREFIXES, error_response, suspicious_request_message

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
                # Our ASGI handler (apps/core/asgi.py) sets the length under any server; another handler may not.
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


class BodyCharsetMiddleware:
    """Answer 400 for a body whose declared charset is a codec but not a text encoding (``charset=zlib``).

    Django takes any name ``codecs.lookup`` knows; reading the form (a view, or the CSRF check of any
    POST) then raises LookupError, a 500. JSON in the error shape under the API paths, plain text elsewhere.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        charset = request.content_params.get("charset") if request.content_params else None
        if charset is not None and not _text_encoding(charset):
            message = f"The charset {charset!r} of the request body is not a text encoding."
            if request.path.startswith((*API_PREFIXES, "/verif/")):
                return error_response(400, "invalid", message)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class AdminNulMiddleware:
    """Answer 400 for a NUL character in an admin URL (a list filter's value, an object id).

    The admin hands both to PostgreSQL, which refuses NUL in text: a 500 (``DataError``) for any such link.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/admin/") and (
            "\x00" in request.path
            or any("\x00" in key or "\x00" in value for key, values in request.GET.lists() for value in values)
        ):
            return HttpResponseBadRequest(
                "The address holds a NUL character.", content_type="text/plain; charset=utf-8"
            )
        return self.get_response(request)


def _text_encoding(name: str) -> bool:
    try:
        return bool(getattr(codecs.lookup(name), "_is_text_encoding", True))
    except LookupError:
        return True  # unknown: Django ignores it and reads the body as DEFAULT_CHARSET


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
        if isinstance(exception, SuspiciousOperation):
            # What Django itself answers 400 (more than DATA_UPLOAD_MAX_NUMBER_FIELDS parameters, too many
            # files, a bad Host): the request's fault, not the server's.
            return error_response(400, "invalid", suspicious_request_message(exception))
        logger.error("Unhandled error on %s %s", request.method, request.path, exc_info=exception)
        return error_response(500, "server_error", "An internal error occurred.")


# The probe endpoints (load balancers, kubelet), answered whatever the Host header says.
PROBE_PATHS = frozenset({"/v1/healthz", "/v1/readyz"})


class ProbeMiddleware:
    """``GET /v1/healthz`` and ``/v1/readyz`` before Django's host check: a probe names the instance by its
    address (``Host: 10.0.3.7:8000``), which ``ALLOWED_HOSTS`` refuses with 400, so a healthy process failed
    its probes. Both answers are the same for every host and build no URL from it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path not in PROBE_PATHS or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        from . import views  # the views import DRF, which reads settings only once apps are ready

        view = views.HealthzView if request.path == "/v1/healthz" else views.ReadyzView
        response = view.as_view()(request)
        return response.render() if hasattr(response, "render") else response
