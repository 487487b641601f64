"""Browser pages: the hosted verification page, its status poll, the direct session and the demo integrator."""

from __future__ import annotations

import json
import uuid
from typing import Any

from csp.constants import SELF
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.models import Account
from apps.accounts.services import account_get_or_create
from apps.core.errors import ApplicationError
from apps.core.languages import language_active, language_headers, locale_language, locale_query
from apps.core.ratelimits import RateLimitExceeded, client_address, rate_limit_count
from apps.face_engine.challenges import CHALLENGE_TIMEOUT_S
from apps.signing.canonical import SIGNATURE_PARAM, QueryStringError, query_parse
from apps.signing.redirects import allowed_redirect_origins_set, url_origin
from apps.signing.services import PURPOSE_RESULT, Outcome, query_check
from apps.verifications.enums import AgeType, ChallengeType, GenderType, LivenessType

from .messages import session_result_message
from .models import Session
from .page_brand import page_brand
from .page_texts import page_texts
from .popups import opener_kept
from .selectors import session_result_payload
from .services.admission import ServiceBusyError
from .services.create import session_create
from .services.devices import device_cookie_set, device_seen_from_request, session_device_record
from .services.frames import engine_warm_up
from .services.lifecycle import session_cancel, session_expire_if_due, session_page_reload
from .tokens import (
    SessionTokenError,
    page_key_check,
    page_key_create,
    session_token_decode,
    session_token_expired_session,
    session_token_issue,
)

DEMO_ACCOUNT = "Demo integrator"
DIRECT_ACCOUNT = "Direct sessions"


def _page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    status: int = 200,
    embed_origins: list[str] | None = None,
    locale: str | None = None,
    form_origins: list[str] | None = None,
) -> HttpResponse:
    """A hosted page in the session's ``locale`` or the browser's language; ``embed_origins`` may frame it.

    ``form_origins``: where a form of the page may lead after the server's redirect (the consent form's
    decline goes to ``failedUrl``); CSP's form-action governs that redirect too.
    """
    with language_active(request=request, locale=locale) as language:
        response = render(request, template, context, status=status)
    language_headers(response, language=language)
    # The site-wide CSP (settings.CONTENT_SECURITY_POLICY), except who may frame the page: the account's origins.
    # This is what django-csp's csp_replace decorator sets; a decorator cannot know the session's account.
    response._csp_replace = {  # type: ignore[attr-defined]
        "frame-ancestors": [SELF, *(embed_origins or [])],
        "form-action": [SELF, *(form_origins or [])],
    }
    if embed_origins:
        response.xframe_options_exempt = True  # CSP frame-ancestors names who may frame it
    else:
        response["X-Frame-Options"] = "SAMEORIGIN"
    response["Cache-Control"] = "no-store"
    # The camera is needed on this origin only.
    response["Permissions-Policy"] = "camera=(self), microphone=(), geolocation=()"
    return opener_kept(response)


def _problem(request: HttpRequest, kind: str, status: int, session: Session | None = None) -> HttpResponse:
    """A problem page; for a known session it may be framed by the account's origins and tells its embedder."""
    if session is None:
        return _page(request, "capture/problem.html", {"kind": kind}, status=status)
    origins = _embed_origins(session)
    boot = {"sessionId": str(session.id), "kind": kind, "embedOrigins": origins}
    context = {"kind": kind, "boot": boot}
    locale = _page_locale(request, session)
    return _page(request, "capture/problem.html", context, status=status, embed_origins=origins, locale=locale)


def _embed_origins(session: Session) -> list[str]:
    return [str(origin) for origin in session.account.allowed_redirect_origins or []]


def _token_opens(session_id: uuid.UUID, token: str) -> bool:
    """Whether ``token`` is a live session token of this session (the Web SDK frames /s/<id>/?t=<sessionToken>)."""
    try:
        return session_token_decode(token=token).session_id == str(session_id)
    except SessionTokenError:
        return False


def _session_for_page(session_id: uuid.UUID, key: str, token: str = "") -> Session | None:
    """The session when ``key`` is its page key or ``token`` one of its live session tokens (not spent here)."""
    if not (key and page_key_check(session_id=session_id, key=key)) and not (token and _token_opens(session_id, token)):
        return None
    return Session.objects.select_related("account").filter(id=session_id).first()


def _ended(session: Session) -> str | None:
    """The problem page's kind for a finished session: "expired" or "used" (completed, cancelled)."""
    if session.status == Session.Status.EXPIRED:
        return "expired"
    if session.status in (Session.Status.COMPLETED, Session.Status.CANCELLED):
        return "used"
    return None


def _not_opened(request: HttpRequest, session_id: uuid.UUID, token: str) -> HttpResponse:
    """The answer to an address that does not open the page.

    An expired session token of this very session (the Web SDK mounted after the token's ten minutes) still
    tells the account's embedders why, as that session's problem page: its end when it has ended, else
    tokenExpired. It opens nothing: no page key, no socket token, no capture.
    """
    session = None
    if token and session_token_expired_session(token=token) == str(session_id):
        session = Session.objects.select_related("account").filter(id=session_id).first()
    if session is None:
        return _problem(request, "unknown", 404)
    if session_expire_if_due(session_id=session.id):
        session.refresh_from_db()
    ended = _ended(session)
    return _problem(request, ended, 410, session) if ended else _problem(request, "tokenExpired", 403, session)


@require_GET
def session_page(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    """The hosted page at sessionUrl: mints a fresh single-use token for its socket on every load."""
    token = request.GET.get("t", "")
    session = _session_for_page(session_id, request.GET.get("k", ""), token)
    if session is None:
        return _not_opened(request, session_id, token)
    # The status poll needs the page key; a page opened with a session token (the Web SDK) gets it here.
    key = page_key_create(session_id=session.id)
    if session_expire_if_due(session_id=session.id):
        session.refresh_from_db()
    if session_page_reload(session=session):
        session.refresh_from_db()
    ended = _ended(session)
    if ended:
        return _problem(request, ended, 410, session)
    engine_warm_up()
    embed_origins = _embed_origins(session)
    boot = {
        "sessionId": str(session.id),
        "token": session_token_issue(session_id=session.id),
        "wsPath": f"/ws/v1/sessions/{session.id}/",
        "statusUrl": f"/s/{session.id}/status?k={key}",
        # A page opened with a session token (10 minutes) puts this key in its address in the token's place:
        # its own reloads (Try again, Start again, a socket token that expired) would otherwise find it dead.
        "pageKey": key,
        "mode": session.mode,
        "maxFps": int(settings.CAPTURE_MAX_FPS),
        "maxFrameBytes": int(settings.CAPTURE_MAX_FRAME_BYTES),
        # Frames the page lets go unanswered before it waits (the server drops any beyond: workers are behind).
        "maxInFlight": int(settings.CAPTURE_MAX_IN_FLIGHT),
        # An integrator's page on one of these origins may embed this page (iframe) or open it (popup);
        # the final page tells it where it went with {"redirectedTo": url}.
        "embedOrigins": embed_origins,
        # Consent collected by the integrator (showConsentScreen false) or given before the script ran (?start=1).
        "consent": session.typed_config.verifiers.common.show_consent_screen and request.GET.get("start") != "1",
        "consentUrl": f"/s/{session.id}/consent?k={key}{locale_query(request)}",  # ?locale= stays on, past the form
        # Continue on a phone (a short code and QR code); a page opened by such a code leaves the redirect to
        # the first device, which follows the session on statusUrl.
        "handoffUrl": f"/s/{session.id}/handoff?k={key}",
        "handedOff": request.GET.get("handoff") == "1",
        "texts": page_texts(max_attempts=session.max_attempts),
        # The engine's time for one challenge (the page counts it down) and how long the page waits for a
        # usable face before it offers help and a fresh start.
        "challengeSeconds": CHALLENGE_TIMEOUT_S,
        "helpAfterSeconds": int(settings.HOSTED_PAGE_HELP_AFTER_SECONDS),
    }
    failed_url = session.typed_config.redirect.failed_url
    failed_origin = url_origin(failed_url) if failed_url else None
    seen, fresh_device_id = device_seen_from_request(request)
    session_device_record(session_id=session.id, seen=seen)
    response = _page(
        request,
        "capture/session.html",
        {"boot": boot, "session": session, "consent_url": boot["consentUrl"], "brand": page_brand(session)},
        embed_origins=embed_origins,
        locale=_page_locale(request, session),
        form_origins=[failed_origin] if failed_origin else None,
    )
    if fresh_device_id:
        device_cookie_set(response, request=request, device_id=fresh_device_id)
    return response


def _page_locale(request: HttpRequest, session: Session) -> str | None:
    """The page's ``?locale=`` (the Web SDK's ``mount(…, {locale})``) when supported, else the session's."""
    requested = request.GET.get("locale", "")
    return requested if locale_language(requested) else session.typed_config.verifiers.common.locale


def _see_other(url: str) -> HttpResponse:
    response = HttpResponseRedirect(url, status=303)  # the answer to a form POST is a GET
    response["Cache-Control"] = "no-store"
    return opener_kept(response)


@csrf_exempt  # the page key in the URL is the proof: a form on another site cannot know it
@require_POST
def session_consent(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    """The consent screen's form, which works before (and without) the page's script.

    ``choice=accept`` goes back to the page, which starts the camera at once; ``choice=decline`` ends the
    session ``cancelled`` and goes to ``failedUrl`` with its signed result (``reVerificationResult=Cancelled``),
    or shows a page saying so. The script posts the same form and reads JSON (``Accept: application/json``).
    """
    key = request.GET.get("k", "")
    session = _session_for_page(session_id, key)
    if session is None:
        return _problem(request, "unknown", 404)
    page = f"/s/{session.id}/?k={key}{locale_query(request)}"
    if request.POST.get("choice") != "decline":
        return _see_other(f"{page}&start=1")
    session_cancel(session_id=session.id)
    session.refresh_from_db()
    result = session_result_message(session=session)
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"status": session.status, "result": result}, headers={"Cache-Control": "no-store"})
    if session.status != Session.Status.CANCELLED:
        return _see_other(page)  # finished otherwise meanwhile: the page says how
    if result and result["redirectUrl"]:
        return _see_other(result["redirectUrl"])
    return _problem(request, "declined", 200, session)


@require_GET
def session_status(request: HttpRequest, session_id: uuid.UUID) -> JsonResponse:
    """What the page polls when its socket is gone: the database's view of the session."""
    session = _session_for_page(session_id, request.GET.get("k", ""))
    if session is None:
        return JsonResponse({"error": {"code": "not_found", "message": "Session not found.", "fields": {}}}, status=404)
    body: dict[str, object] = {"status": session.status, "result": session_result_message(session=session)}
    if request.GET.get("token") == "1" and session.status in Session.UNFINISHED:
        # A socket token for the page whose resume token expired (it lives ten minutes): the page key opens the
        # page, which mints one on every load, so this gives nothing more; a reload would spend the attempt.
        body["token"] = session_token_issue(session_id=session.id)
    return JsonResponse(body, headers={"Cache-Control": "no-store"})


# --- direct session (002) ------------------------------------------------------------------------


_DIRECT_MODES = {"passive": ChallengeType.PASSIVE, "active": ChallengeType.BALANCED}


@require_http_methods(["GET", "POST"])
def direct_session(request: HttpRequest) -> HttpResponse:
    """A standalone page that creates its own session, no API key; off unless DIRECT_SESSIONS_ENABLED."""
    if not settings.DIRECT_SESSIONS_ENABLED:
        raise Http404
    if request.method == "GET":
        return _page(request, "capture/direct.html", {})
    try:
        rate = f"{int(settings.DIRECT_SESSIONS_PER_HOUR)}/h"
        rate_limit_count(group="direct-sessions", rate=rate, key=client_address(request))
    except RateLimitExceeded as exc:
        response = _page(request, "capture/problem.html", {"kind": "rateLimited"}, status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    challenge_type = _DIRECT_MODES.get(request.POST.get("mode", "passive"), ChallengeType.PASSIVE)
    account = account_get_or_create(name=DIRECT_ACCOUNT)
    try:
        session = session_create(
            account=account,
            body={
                "name": "direct",
                "verifierConfigs": {
                    "liveness": {"type": LivenessType.VERIFICATION.value, "challengeType": challenge_type.value}
                },
            },
        )
    except ServiceBusyError as exc:
        return _busy_page(request, exc)
    return opener_kept(HttpResponseRedirect(session.session_url))


def _busy_page(request: HttpRequest, exc: ServiceBusyError) -> HttpResponse:
    """Admission control refused a new session (apps/sessions/services/admission.py): 503 with Retry-After."""
    response = _page(request, "capture/problem.html", {"kind": "busy"}, status=503)
    response["Retry-After"] = str(exc.retry_after)
    return response


# --- demo integrator -------------------------------------------------------------------------------


def _demo_origin_allow(*, account: Account, url: str) -> None:
    """Put the demo's own origin on the demo account's allowed redirect origins (no open redirect for it either)."""
    origins, origin = list(account.allowed_redirect_origins or []), url_origin(url)
    if origin not in origins:
        allowed_redirect_origins_set(account=account, origins=[*origins, origin])


@require_http_methods(["GET", "POST"])
def demo_page(request: HttpRequest) -> HttpResponse:
    """Plays the integrator: creates a session server-side for the demo account and redirects to it.

    The page calls ``session_create`` for the "Demo integrator" account in
    process, exactly what ``POST /v1/verification/create-session`` with the
    demo key does, so no API key is ever stored or sent to the browser.
    """
    if not settings.DEMO_MODE:
        raise Http404
    if request.method == "GET":
        return _page(request, "capture/demo.html", {})
    base = f"{settings.PUBLIC_BASE_URL}/demo/return/"
    challenge_type = request.POST.get("challengeType", ChallengeType.PASSIVE)
    if challenge_type not in ChallengeType.values:
        challenge_type = ChallengeType.PASSIVE
    verifiers: dict[str, Any] = {"liveness": {"type": LivenessType.VERIFICATION.value, "challengeType": challenge_type}}
    if request.POST.get("age"):
        verifiers["age"] = {"type": AgeType.CALCULATION_ONLY.value}
    if request.POST.get("gender"):
        verifiers["gender"] = {"type": GenderType.CALCULATION_ONLY.value}
    body = {
        "name": "demo",
        "externalId": f"demo-{uuid.uuid4().hex[:8]}",
        "verifierConfigs": verifiers,
        "redirectConfig": {"passedUrl": f"{base}?outcome=passed", "failedUrl": f"{base}?outcome=failed"},
        "resultParameterConfig": {
            "includeSessionId": True,
            "includeVerificationResult": True,
            "includeSignature": True,
        },
        "customInputParameters": {"source": "demo"},
    }
    account = account_get_or_create(name=DEMO_ACCOUNT)
    try:
        _demo_origin_allow(account=account, url=base)
        session = session_create(account=account, body=body)
    except ServiceBusyError as exc:
        return _busy_page(request, exc)
    except ApplicationError as exc:
        return _page(request, "capture/demo.html", {"error": exc.message, "fields": exc.fields}, status=400)
    return HttpResponseRedirect(session.session_url)


@require_GET
def demo_return(request: HttpRequest) -> HttpResponse:
    """Where the demo's passedUrl/failedUrl land: shows what get-session-result answers."""
    if not settings.DEMO_MODE:
        raise Http404
    raw = request.GET.get("reVerificationSessionId") or request.GET.get("verificationSessionId") or ""
    try:
        session_id = uuid.UUID(raw)
    except ValueError:
        session_id = None
    session = (
        Session.objects.filter(id=session_id, account__name=DEMO_ACCOUNT).first() if session_id is not None else None
    )
    if session is None:
        return _problem(request, "unknown", 404)
    result = json.dumps(session_result_payload(session=session), indent=2)
    signature = _demo_signature_check(account=session.account, query_string=request.META.get("QUERY_STRING", ""))
    context: dict[str, Any] = {
        "result": result,
        "outcome": request.GET.get("outcome", ""),
        "query": sorted(request.GET.items()),
        "signature": signature,
        "signature_valid": signature == Outcome.VALID,
    }
    return _page(request, "capture/demo_return.html", context)


def _demo_signature_check(*, account: Account, query_string: str) -> str:
    """What the integrator's backend checks first: the redirect's ``reSignature`` (a ``query_check`` outcome).

    ``Missing`` when the redirect carries no signature, ``Unreadable`` when the query string has no
    canonical form. Read-only: the check never marks the redirect's nonce used.
    """
    try:
        params = query_parse(query_string)
    except QueryStringError:
        return "Unreadable"
    if SIGNATURE_PARAM not in dict(params):
        return "Missing"
    return str(query_check(account=account, params=params, purposes=(PURPOSE_RESULT,)))
