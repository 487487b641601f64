"""Signed result redirects, and the rules that keep redirects from being open.

A session ends by sending the browser to the stored ``passedUrl`` or ``failedUrl``
with the ``re*`` parameters ``resultParameterConfig`` asks for, ``reExpiration``,
``reNonce`` and (with ``includeSignature``) ``reSignature`` last. The signature
covers the whole final query string, the target's own parameters included, so
the integrator can check it with ``/v1/signature/validate`` or locally.

Redirect targets come only from the stored configuration or, where the config
allows redirect overrides, from URLs whose origin the account has allowed
(``Account.allowed_redirect_origins``): ``redirect_override_check``.
"""

from __future__ import annotations

import logging
import math
import re
import uuid
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.utils import timezone

from apps.accounts.models import Account
from apps.core.addresses import address_refusal, hostname_refusal, literal_address
from apps.core.errors import ApplicationError

from .canonical import (
    EXPIRATION_PARAM,
    NONCE_PARAM,
    SIGNATURE_PARAM,
    QueryStringError,
    encode_component,
    query_parse,
)
from .services import PURPOSE_RESULT, query_sign

logger = logging.getLogger(__name__)

RESERVED_RE = re.compile(r"re[A-Z]")
_UNSAFE_URL_RE = re.compile(r"[\x00-\x20\x7f\\]")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_RESULT_VALUES = {"Pass": "passed", "Fail": "failed"}


class FinishedSession(Protocol):
    """What the result redirect reads of a session (``apps.sessions.models.Session``).

    A protocol, so that signing, which sessions build on, does not import sessions.
    """

    id: uuid.UUID
    account: Account
    config: Any  # JSON
    custom_input_parameters: Any  # JSON
    external_id: str | None
    verification_result: str | None
    verification_failed_reasons: Any  # JSON
    liveness_result: str | None
    face_recognition_result: str | None
    age_result: str | None
    gender_result: str | None
    estimated_age: float | None
    estimated_gender: str | None
    face_id: str | None
    total_face_count: int | None


def is_reserved(name: str) -> bool:
    """Reserved parameters start with ``re`` and an upper-case letter (``reNonce``); ``region`` is not."""
    return bool(RESERVED_RE.match(name))


# --- Origins and override checks ----------------------------------------------------------


def url_origin(url: str) -> str | None:
    """``scheme://host[:port]`` of an absolute http(s) URL (default port omitted), or None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" if port in (None, _DEFAULT_PORTS[scheme]) else f"{scheme}://{host}:{port}"


def internal_host_problem(url: str) -> str | None:
    """Why ``url`` points at an internal host (002: redirects to internal or private addresses are refused), or None.

    Loopback, private, link-local, metadata and other non-public literal addresses
    and the names localhost and cloud metadata services are refused. Other names are
    not resolved: the user's browser resolves them, not this server. The service's
    own origin (``PUBLIC_BASE_URL``) is always allowed: the demo's return page is there.
    """
    if url_origin(url) == url_origin(settings.PUBLIC_BASE_URL):
        return None
    host = urlsplit(url).hostname or ""
    literal = literal_address(host)
    reason = address_refusal(literal) if literal is not None else hostname_refusal(host)
    return f"Redirects may not point to {reason}." if reason else None


def redirect_url_problem(url: Any) -> str | None:
    """Why ``url`` cannot be a result redirect target, or None.

    Refused: anything but an absolute http(s) URL (http only when ALLOW_HTTP_OUTBOUND),
    user-info (``user@host`` reads differently to people and parsers), backslashes,
    whitespace or control characters (browsers and servers disagree on them), and a
    query string with no canonical form or with reserved ``re*`` parameters (the
    result parameters could not then be signed unambiguously).
    """
    if not isinstance(url, str) or not url:
        return "Enter an absolute http(s) URL."
    if _UNSAFE_URL_RE.search(url):
        return "The URL may not contain spaces, backslashes or control characters."
    origin = url_origin(url)
    if origin is None:
        return "Enter an absolute http(s) URL."
    if origin.startswith("http://") and not settings.ALLOW_HTTP_OUTBOUND:
        return "Use an https:// URL."
    internal = internal_host_problem(url)
    if internal:
        return internal
    parts = urlsplit(url)
    if "@" in parts.netloc:
        return "The URL may not contain a user name or password."
    try:
        params = query_parse(parts.query)
    except QueryStringError as exc:
        return f"The URL's query string is ambiguous: {exc}"
    reserved = [name for name, _ in params if is_reserved(name)]
    if reserved:
        return f"The URL may not carry the reserved parameter '{reserved[0]}'."
    return None


def redirect_override_check(*, account: Account, url: Any, field: str) -> None:
    """Allow a session-level redirect target only when its origin is one the account allowed.

    Call it for every redirect URL a session brings in itself (create-session's
    ``redirectConfig`` overriding a stored verification, a hosted link's
    ``rePassedUrl``/``reFailedUrl``). Raises ApplicationError (400) naming ``field``.
    """
    problem = redirect_url_problem(url)
    if problem is None:
        allowed = {url_origin(str(origin)) for origin in (account.allowed_redirect_origins or [])}
        if url_origin(url) not in allowed - {None}:
            problem = f"The origin {url_origin(url)} is not one of the account's allowed redirect origins."
    if problem is not None:
        message = "The redirect URL is not allowed."
        raise ApplicationError(message, code="redirect_not_allowed", fields={field: [problem]})


MAX_ALLOWED_ORIGINS = 50


def _bare_origin(text: Any) -> str | None:
    """The normalised origin when ``text`` is nothing but an origin (a trailing ``/`` allowed)."""
    if not isinstance(text, str) or _UNSAFE_URL_RE.search(text) or any(c in text for c in "@?#"):
        return None
    origin = url_origin(text)
    return origin if origin is not None and urlsplit(text).path in ("", "/") else None


def allowed_redirect_origins_set(*, account: Account, origins: Any) -> list[str]:
    """Replace the account's allowed redirect origins with ``origins``, normalised.

    Each entry must be a bare origin (``https://shop.example`` or with a port; no path,
    query, user or fragment; ``http://`` only with ALLOW_HTTP_OUTBOUND). Raises
    ApplicationError (400) naming ``allowedRedirectOrigins[i]``.
    """
    field = "allowedRedirectOrigins"
    if not isinstance(origins, list) or len(origins) > MAX_ALLOWED_ORIGINS:
        message = f"Send a list of at most {MAX_ALLOWED_ORIGINS} origins."
        raise ApplicationError("The request has invalid fields.", fields={field: [message]})
    normalised: list[str] = []
    errors: dict[str, list[str]] = {}
    for index, origin in enumerate(origins):
        value = _bare_origin(origin)
        if value is None:
            errors[f"{field}[{index}]"] = ["Enter an origin such as https://shop.example (no path)."]
        elif value.startswith("http://") and not settings.ALLOW_HTTP_OUTBOUND:
            errors[f"{field}[{index}]"] = ["Use an https:// origin."]
        elif internal_host_problem(value):
            errors[f"{field}[{index}]"] = [str(internal_host_problem(value))]
        elif value not in normalised:
            normalised.append(value)
    if errors:
        raise ApplicationError("The request has invalid fields.", fields=errors)
    account.allowed_redirect_origins = normalised
    account.save(update_fields=["allowed_redirect_origins"])
    return normalised


# --- The result redirect -------------------------------------------------------------------


def _result(value: str | None) -> str:
    return _RESULT_VALUES.get(str(value), "not_executed")


def _face_id(value: str) -> str:
    try:
        return uuid.UUID(value).hex
    except ValueError:
        return value.replace("-", "").lower()


def result_params(*, session: FinishedSession, flags: dict[str, Any]) -> list[tuple[str, str]]:
    """The ``re*`` result parameters ``flags`` (a resultParameterConfig) includes, in documented order.

    A value the session does not have (no faceId, no age) is left out rather than sent empty.
    """
    candidates: list[tuple[str, str, object]] = [
        ("includeSessionId", "reVerificationSessionId", str(session.id)),
        ("includeVerificationResult", "reVerificationResult", "passed" if _passed(session) else "failed"),
        ("includeLivenessCheckResult", "reLivenessResult", _result(session.liveness_result)),
        ("includeFaceRecognitionResult", "reFaceRecognitionResult", _result(session.face_recognition_result)),
        ("includeAgeVerificationResult", "reAgeVerificationResult", _result(session.age_result)),
        ("includeGenderVerificationResult", "reGenderVerificationResult", _result(session.gender_result)),
        ("includeFaceId", "reFaceId", _face_id(session.face_id) if session.face_id else None),
        # Truncated, as people count age: 17.9 is still 17.
        ("includeAge", "reAge", math.floor(session.estimated_age) if session.estimated_age is not None else None),
        ("includeGender", "reGender", str(session.estimated_gender).lower() if session.estimated_gender else None),
        ("includeCorrelationId", "reCorrelationId", session.external_id or None),
        ("includeTotalFaceCount", "reTotalFaceCount", session.total_face_count),
        ("includeFailedReason", "reFailedReason", ",".join(session.verification_failed_reasons or []) or None),
    ]
    return [(name, str(value)) for flag, name, value in candidates if flags.get(flag) and value is not None]


def _passed(session: FinishedSession) -> bool:
    return session.verification_result == "Pass"


def result_redirect_url(*, session: FinishedSession) -> str | None:
    """Where the browser goes when ``session`` is finished, or None without a redirect URL.

    ``passedUrl`` when the session passed, else ``failedUrl``, plus the custom input
    parameters (with ``includeCustomInputParameters``; a name the target URL already
    uses keeps the target's value), the included ``re*`` results, ``reExpiration``
    (now + SIGNING_RESULT_EXPIRATION_SECONDS), a fresh ``reNonce`` and, with
    ``includeSignature``, ``reSignature`` last. Each call signs anew.
    """
    config = session.config or {}
    redirect = config.get("redirectConfig") or {}
    target = redirect.get("passedUrl") if _passed(session) else redirect.get("failedUrl")
    if not target:
        return None
    parts = urlsplit(target)
    try:
        own = query_parse(parts.query)
    except QueryStringError:
        logger.error("Redirect target of session %s has an ambiguous query string; not redirecting", session.id)
        return None
    flags = config.get("resultParameterConfig") or {}
    # Reserved names belong to the service: a target's own re* parameters are dropped, so the
    # signed set never holds two values for one name.
    kept = [(piece, name) for piece, (name, _) in _pieces(parts.query) if not is_reserved(name)]
    kept_params = [param for param in own if not is_reserved(param[0])]
    taken = {name for _, name in kept}
    added: list[tuple[str, str]] = []
    if flags.get("includeCustomInputParameters"):
        custom = {str(k): str(v) for k, v in (session.custom_input_parameters or {}).items()}
        added += [(k, v) for k, v in custom.items() if k and k not in taken and not is_reserved(k)]
    added += result_params(session=session, flags=flags)
    expiration = int(timezone.now().timestamp()) + int(settings.SIGNING_RESULT_EXPIRATION_SECONDS)
    added += [(EXPIRATION_PARAM, str(expiration)), (NONCE_PARAM, uuid.uuid4().hex)]
    if flags.get("includeSignature"):
        signature = query_sign(account=session.account, params=[*kept_params, *added], purpose=PURPOSE_RESULT)
        added.append((SIGNATURE_PARAM, signature))
    query = "&".join([piece for piece, _ in kept] + [f"{encode_component(k)}={encode_component(v)}" for k, v in added])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _pieces(query: str) -> list[tuple[str, tuple[str, str]]]:
    """Each non-empty ``name=value`` piece as written, with its decoded pair (query already parsed once)."""
    return [(piece, query_parse(piece)[0]) for piece in query.split("&") if piece]
