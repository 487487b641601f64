"""Signed result redirects, and the rules that keep redirects from being open.

A session ends by sending the browser to the stored ``passedUrl`` or ``failedUrl``
(``apps.sessions.result_redirect`` picks the target and the ``re*`` parameters
``resultParameterConfig`` asks for); ``redirect_url_sign`` appends them,
``reExpiration``, ``reNonce`` and (with ``includeSignature``) ``reSignature`` last.
The signature covers the whole final query string, the target's own parameters
included, so the integrator can check it with ``/v1/signature/validate`` or locally.

Redirect targets come only from the stored configuration or, where the config
allows redirect overrides, from URLs whose origin the account has allowed
(``Account.allowed_redirect_origins``): ``redirect_override_check``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.utils import timezone

from apps.accounts.models import Account
from apps.core.addresses import address_refusal, browser_host, hostname_refusal, literal_address
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

RESERVED_RE = re.compile(r"re[A-Z]")
_UNSAFE_URL_RE = re.compile(r"[\x00-\x20\x7f\\]")
_DEFAULT_PORTS = {"http": 80, "https": 443}


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
    host = browser_host(urlsplit(url).hostname or "")
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


def allowed_redirect_origins_clean(origins: Any) -> list[str]:
    """``origins`` normalised, or ApplicationError (400) naming ``allowedRedirectOrigins[i]``.

    Each entry must be a bare origin (``https://shop.example`` or with a port; no path,
    query, user or fragment; ``http://`` only with ALLOW_HTTP_OUTBOUND), not an internal host.
    The API and the account's admin form both use it.
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
    return normalised


def allowed_redirect_origins_set(*, account: Account, origins: Any) -> list[str]:
    """Replace the account's allowed redirect origins with ``origins`` (``allowed_redirect_origins_clean``)."""
    normalised = allowed_redirect_origins_clean(origins)
    account.allowed_redirect_origins = normalised
    account.save(update_fields=["allowed_redirect_origins"])
    return normalised


# --- The result redirect -------------------------------------------------------------------


def redirect_url_sign(
    *, account: Account, target: str, params: Sequence[tuple[str, str]], custom: Mapping[str, str], signed: bool
) -> str:
    """``target`` with the result parameters appended, signed anew on every call.

    In order: ``custom`` parameters (a name the target already uses keeps the target's
    value), ``params`` (the ``re*`` results), ``reExpiration`` (now +
    SIGNING_RESULT_EXPIRATION_SECONDS), a fresh ``reNonce`` and, when ``signed``,
    ``reSignature`` last. Raises QueryStringError when the target's own query string
    has no canonical form.
    """
    parts = urlsplit(target)
    own = query_parse(parts.query)
    # Reserved names belong to the service: a target's own re* parameters are dropped, so the
    # signed set never holds two values for one name.
    # Each piece as written, named as the whole query string reads it (a piece read alone would lose a "?"
    # that starts it: "?reNonce" is not reserved in the whole, and is signed and kept as such).
    pieces = [piece for piece in parts.query.removeprefix("?").split("&") if piece]
    kept = [(piece, name) for piece, (name, _) in zip(pieces, own, strict=True) if not is_reserved(name)]
    kept_params = [param for param in own if not is_reserved(param[0])]
    taken = {name for _, name in kept}
    added = [(k, v) for k, v in custom.items() if k and k not in taken and not is_reserved(k)]
    added += params
    expiration = int(timezone.now().timestamp()) + int(settings.SIGNING_RESULT_EXPIRATION_SECONDS)
    added += [(EXPIRATION_PARAM, str(expiration)), (NONCE_PARAM, uuid.uuid4().hex)]
    if signed:
        signature = query_sign(account=account, params=[*kept_params, *added], purpose=PURPOSE_RESULT)
        added.append((SIGNATURE_PARAM, signature))
    query = "&".join([piece for piece, _ in kept] + [f"{encode_component(k)}={encode_component(v)}" for k, v in added])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
