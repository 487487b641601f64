"""DRF authentication: ``Authorization: ApiKey <key>`` or ``Authorization: Bearer <token>``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.http import HttpRequest
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apps.audit.context import Actor, actor_set
from apps.audit.models import AuditEventType
from apps.audit.services import api_key_address_cache_key, api_key_address_seen, audit_record
from apps.core.addresses import address_clean
from apps.core.cache import cache_read_ahead
from apps.core.errors import ApplicationError
from apps.core.ratelimits import (
    RateLimitExceeded,
    client_address,
    rate_limit_cache_keys,
    rate_limit_count,
    rate_limits_check,
)

from .key_cache import VERSION_KEY
from .models import Account, ApiKey
from .services import (
    KEY_PREFIXES,
    api_key_address_allowed,
    api_key_authenticate,
    api_token_authenticate,
    split_api_key,
)

if TYPE_CHECKING:
    # Not at run time: rest_framework.views loads this module through its settings.
    from rest_framework.views import APIView


def _credentials(request: Request) -> tuple[str, str]:
    header = get_authorization_header(request).decode("latin-1").strip()
    scheme, _, credential = header.partition(" ")
    return scheme.lower(), credential.strip()


FAILURES_BY_ADDRESS = "api-auth-failures:address"
FAILURES_BY_KEY = "api-auth-failures:key"


def _failure_limits(request: HttpRequest | Request, credential: str) -> list[tuple[str, str, str]]:
    """(group, rate, key) of each limit a failed attempt with ``credential`` counts against.

    Only a secret key's prefix has a limit of its own. A publishable key is printed on the partner's pages, so
    there is nothing to guess behind its prefix, and counting wrong keys with that prefix let any visitor shut
    the page for every end user with a few tries; those failures count against the sender's address only.
    """
    limits = [(FAILURES_BY_ADDRESS, str(settings.API_AUTH_FAILURES_PER_ADDRESS), client_address(request))]
    prefix = split_api_key(credential)
    if prefix is not None and prefix.startswith(KEY_PREFIXES[ApiKey.Kind.SECRET]):
        limits.append((FAILURES_BY_KEY, str(settings.API_AUTH_FAILURES_PER_KEY), prefix))
    return limits


def _throttled(exc: RateLimitExceeded) -> exceptions.Throttled:
    return exceptions.Throttled(exc.retry_after, "Too many failed authentication attempts; try again later.")


def failures_limited(
    request: HttpRequest | Request,
    credential: str,
    check: Callable[[str], ApiKey | None],
    limits: list[tuple[str, str, str]] | None = None,
) -> ApiKey | None:
    """``check(credential)`` behind the failed-authentication limits; RateLimitExceeded once they are used up.

    The limits are checked before the credential, so once an address or a key prefix has used up its
    failures even a right guess is refused until the window ends: guessing cannot go on. Only failures
    count, so a working integration is never limited. ``limits``: ``_failure_limits`` when the caller has them.
    """
    limits = _failure_limits(request, credential) if limits is None else limits
    rate_limits_check(limits)
    api_key = check(credential)
    if api_key is None:
        for group, rate, key in limits:
            rate_limit_count(group=group, rate=rate, key=key)
    return api_key


def authenticate_limited(
    request: Request,
    credential: str,
    check: Callable[[str], ApiKey | None],
    refusal: str,
    limits: list[tuple[str, str, str]] | None = None,
) -> ApiKey:
    """``failures_limited`` for DRF (429 Throttled, 401 ``refusal``), then ``api_key_caller_check``."""
    try:
        api_key = failures_limited(request, credential, check, limits)
    except RateLimitExceeded as exc:
        raise _throttled(exc) from None
    if api_key is None:
        raise exceptions.AuthenticationFailed(refusal)
    api_key_caller_check(request, api_key)
    return api_key


def api_key_caller_check(request: HttpRequest | Request, api_key: ApiKey) -> None:
    """The key's IP allow-list (403 outside it), then the audit trail's actor and new-address event.

    Both read the client's own address, never the IPv6 network the rate limits count by: a list naming
    one host must admit that host and no other in its /64.
    """
    address = address_clean(request.META.get("REMOTE_ADDR")) or "unknown"
    if not api_key_address_allowed(api_key=api_key, address=address):
        audit_record(
            account_id=api_key.account_id,
            type=AuditEventType.API_KEY_ADDRESS_REFUSED,
            actor=f"apiKey:{api_key.prefix}",
            address=address if address != "unknown" else None,
            subject_type="apiKey",
            subject_id=api_key.prefix,
        )
        raise ApplicationError("This API key may not be used from this address.", code="forbidden", status=403)
    known = address if address != "unknown" else None
    actor_set(Actor(f"apiKey:{api_key.prefix}", known))
    api_key_address_seen(account_id=api_key.account_id, key_prefix=api_key.prefix, address=known)


def _api_key_reads(request: Request, credential: str, limits: list[tuple[str, str, str]]) -> list[str]:
    """The cache keys authenticating ``credential`` reads: the failed-authentication counters of ``limits``, the
    API keys version and the key's known address; read in one round trip instead of three."""
    keys = [*rate_limit_cache_keys(limits), VERSION_KEY]
    prefix, address = split_api_key(credential), address_clean(request.META.get("REMOTE_ADDR"))
    if prefix is not None and address:
        keys.append(api_key_address_cache_key(prefix, address))
    return keys


class ApiKeyAuthentication(BaseAuthentication):
    """``Authorization: ApiKey <key>`` with a secret API key.

    ``request.user`` is the Account and ``request.auth`` the ApiKey used.
    """

    def authenticate(self, request: Request) -> tuple[Account, ApiKey] | None:
        scheme, credential = _credentials(request)
        if scheme in ("", "bearer"):
            return None
        if scheme != "apikey":
            raise exceptions.AuthenticationFailed(
                "Use 'Authorization: ApiKey <key>' or 'Authorization: Bearer <token>'."
            )
        limits = _failure_limits(request, credential)
        with cache_read_ahead(_api_key_reads(request, credential, limits)):
            api_key = authenticate_limited(
                request,
                credential,
                lambda key: api_key_authenticate(plaintext=key),
                "Invalid or revoked API key.",
                limits,
            )
        return api_key.account, api_key

    def authenticate_header(self, request: Request) -> str:
        return 'ApiKey realm="api", Bearer realm="api"'


class BearerTokenAuthentication(ApiKeyAuthentication):
    """``Authorization: Bearer <token>`` with a short-lived token from /v1/token/get."""

    def authenticate(self, request: Request) -> tuple[Account, ApiKey] | None:
        scheme, credential = _credentials(request)
        if scheme != "bearer":
            return None
        api_key = authenticate_limited(
            request, credential, lambda token: api_token_authenticate(token=token), "Invalid or expired token."
        )
        return api_key.account, api_key


def request_account(request: Request) -> Account:
    """The Account that authenticated ``request``, for views behind ``IsAccount``.

    DRF types ``request.user`` as Django's user; ours is always an Account.
    """
    user = request.user
    if not isinstance(user, Account):
        raise exceptions.NotAuthenticated()
    return user


def request_api_key(request: Request) -> ApiKey:
    """The ApiKey that authenticated ``request`` (``request.auth``), for views behind ``IsAccount``."""
    api_key = request.auth
    if not isinstance(api_key, ApiKey):
        raise exceptions.NotAuthenticated()
    return api_key


class IsAccount(BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        return isinstance(request.user, Account)


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "apps.accounts.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "apiKey", "in": "header", "name": "Authorization", "description": "`ApiKey <key>`"}


class BearerScheme(OpenApiAuthenticationExtension):
    target_class = "apps.accounts.authentication.BearerTokenAuthentication"
    name = "Bearer"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "A token from /v1/token/get"}
