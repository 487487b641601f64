"""The hosted verification link page: open a session and send the browser to it."""

from __future__ import annotations

import uuid

from csp.constants import NONE
from django.core.handlers.wsgi import get_bytes_from_wsgi
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from apps.core.languages import language_active, language_headers
from apps.core.ratelimits import client_address

from .hosted_links import LOCALE_PARAM, LinkRefused, hosted_link_open
from .popups import opener_kept

# Stricter than the site-wide policy: this page shows a message and runs nothing.
_CSP = {"default-src": [NONE], "script-src": [NONE], "connect-src": [NONE], "form-action": [NONE]}


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    # The link carries a signature and possibly personal parameters: never leak it onwards.
    response["Referrer-Policy"] = "no-referrer"
    return opener_kept(response)  # a hosted link may be opened as a popup too


def _link_locale(request: HttpRequest) -> str | None:
    """The link's reLocale, for its error page (a refused link opens no session that could carry it)."""
    value = request.GET.get(LOCALE_PARAM)
    return value if isinstance(value, str) else None


def _raw_query_string(request: HttpRequest) -> str:
    """The query string exactly as sent, as text.

    Under WSGI, META["QUERY_STRING"] is the bytes read as Latin-1, so raw UTF-8
    (``Köln`` typed into curl) must be re-read; under ASGI the scope has the bytes.
    """
    scope = getattr(request, "scope", None)
    raw = scope.get("query_string", b"") if scope is not None else get_bytes_from_wsgi(request.META, "QUERY_STRING", "")
    try:
        return raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
    except UnicodeDecodeError:
        raise LinkRefused("malformed", 400, "The query string is not UTF-8 text.") from None


@require_http_methods(["GET", "HEAD"])
def hosted_link(request: HttpRequest, verification_id: uuid.UUID) -> HttpResponse:
    """GET creates the session and redirects to its hosted page; HEAD (link scanners) creates nothing."""
    if request.method == "HEAD":
        return _no_store(HttpResponse(status=200))
    try:
        query_string = _raw_query_string(request)
        session = hosted_link_open(
            verification_id=verification_id,
            query_string=query_string,
            client_address=client_address(request),
        )
    except LinkRefused as refused:
        context = {"kind": refused.kind, "message": refused.message, "status": refused.status}
        with language_active(request=request, locale=_link_locale(request)) as language:
            response = render(request, "capture/link_error.html", context, status=refused.status)
        language_headers(response, language=language)
        response._csp_replace = _CSP  # type: ignore[attr-defined]  # what django-csp's csp_replace sets
        if refused.retry_after is not None:
            response["Retry-After"] = str(refused.retry_after)
        return _no_store(response)
    return _no_store(HttpResponseRedirect(session.session_url))
