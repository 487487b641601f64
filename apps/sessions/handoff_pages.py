"""Continue on a phone: the hosted page asks for a short code and QR code; ``/go/`` takes the code on the phone."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from apps.core.errors import ApplicationError
from apps.core.languages import language_active, language_headers
from apps.core.ratelimits import RateLimitExceeded, client_address, rate_limit_count
from apps.core.timestamps import utc_timestamp

from .models import Session
from .services.handoff import handoff_code_normalise, session_handoff_create, session_handoff_redeem
from .tokens import page_key_check, page_key_create

HANDED_OFF_PARAM = "handoff"


def _error(code: str, message: str, status: int, retry_after: int | None = None) -> JsonResponse:
    response = JsonResponse({"error": {"code": code, "message": message, "fields": {}}}, status=status)
    response["Cache-Control"] = "no-store"
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


@csrf_exempt  # the page key in the URL is the proof: a page on another site cannot know it
@require_POST
def session_handoff(request: HttpRequest, session_id: uuid.UUID) -> JsonResponse:
    """A fresh short code and QR code for the session (JSON); 404 without its page key, 409 when finished."""
    key = request.GET.get("k", "")
    session = Session.objects.filter(id=session_id).first() if key else None
    if session is None or not page_key_check(session_id=session_id, key=key):
        return _error("not_found", "Session not found.", 404)
    try:
        handoff = session_handoff_create(session=session)
    except RateLimitExceeded as exc:
        return _error("rate_limited", "Too many codes for this session.", 429, exc.retry_after)
    except ApplicationError as exc:
        return _error(exc.code, exc.message, exc.status)
    body = {
        "code": handoff.code,
        "entryUrl": handoff.entry_url,
        "url": handoff.url,
        "qrCode": handoff.qr_svg_data_uri,
        "expiresAt": utc_timestamp(handoff.expires_at),
        "expiresInSeconds": max(int((handoff.expires_at - timezone.now()).total_seconds()), 0),
    }
    return JsonResponse(body, headers={"Cache-Control": "no-store"})


def _entry_page(request: HttpRequest, *, code: str, error: str = "", status: int = 200) -> HttpResponse:
    with language_active(request=request, locale=None) as language:
        response = render(request, "capture/handoff.html", {"code": code, "error": error}, status=status)
    language_headers(response, language=language)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"  # the code is in the QR code's URL
    return response


@require_http_methods(["GET", "POST"])
def handoff_enter(request: HttpRequest) -> HttpResponse:
    """GET: the form (the QR code fills it in; a tap sends it, so link previews spend nothing).

    POST: spend the code and go to the session's hosted page, or say why not (400; 429 past
    SESSION_HANDOFF_TRIES_PER_ADDRESS, counted per client address whatever the outcome).
    """
    typed = request.POST.get("code", "") if request.method == "POST" else request.GET.get("code", "")
    shown = handoff_code_normalise(typed) or ""
    if request.method == "GET":
        return _entry_page(request, code=shown)
    try:
        rate_limit_count(
            group="session-handoff-tries",
            rate=str(settings.SESSION_HANDOFF_TRIES_PER_ADDRESS),
            key=client_address(request),
        )
    except RateLimitExceeded as exc:
        response = _entry_page(request, code=shown, error="rateLimited", status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    session = session_handoff_redeem(code=typed)
    if session is None:
        return _entry_page(request, code="", error="invalid", status=400)
    target = f"/s/{session.id}/?k={page_key_create(session_id=session.id)}&{HANDED_OFF_PARAM}=1"
    response = HttpResponseRedirect(target, status=303)
    response["Cache-Control"] = "no-store"
    return response
