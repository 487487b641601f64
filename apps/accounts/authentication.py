"""DRF authentication: ``Authorization: ApiKey <key>`` or ``Authorization: Bearer <token>``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from .models import Account, ApiKey
from .services import api_key_authenticate, api_token_authenticate

if TYPE_CHECKING:
    # Not at run time: rest_framework.views loads this module through its settings.
    from rest_framework.views import APIView


def _credentials(request: Request) -> tuple[str, str]:
    header = get_authorization_header(request).decode("latin-1").strip()
    scheme, _, credential = header.partition(" ")
    return scheme.lower(), credential.strip()


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
        api_key = api_key_authenticate(plaintext=credential)
        if api_key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        return api_key.account, api_key

    def authenticate_header(self, request: Request) -> str:
        return 'ApiKey realm="api", Bearer realm="api"'


class BearerTokenAuthentication(ApiKeyAuthentication):
    """``Authorization: Bearer <token>`` with a short-lived token from /v1/token/get."""

    def authenticate(self, request: Request) -> tuple[Account, ApiKey] | None:
        scheme, credential = _credentials(request)
        if scheme != "bearer":
            return None
        api_key = api_token_authenticate(token=credential)
        if api_key is None:
            raise exceptions.AuthenticationFailed("Invalid or expired token.")
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
