"""002's ``Authorization: Bearer <API_KEY>``: the secret API key itself as a bearer credential.

Our own API takes ``ApiKey <key>`` or ``Bearer <short-lived token>``; iLive clients send the key as a
bearer. A bearer that looks like an API key (``lp_sk_…``) is checked as one, anything else as a token,
both behind the same failed-authentication limits.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from apps.accounts.authentication import authenticate_limited
from apps.accounts.models import Account, ApiKey
from apps.accounts.services import api_key_authenticate, api_token_authenticate, split_api_key


def _bearer_check(credential: str) -> ApiKey | None:
    if split_api_key(credential) is not None:
        return api_key_authenticate(plaintext=credential)
    return api_token_authenticate(token=credential)


class BearerApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Account, ApiKey] | None:
        header = get_authorization_header(request).decode("latin-1").strip()
        scheme, _, credential = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        api_key = authenticate_limited(request, credential.strip(), _bearer_check, "Invalid API key.")
        return api_key.account, api_key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class BearerApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "apps.ilive.authentication.BearerApiKeyAuthentication"
    name = "BearerApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "http", "scheme": "bearer", "description": "`Bearer <API_KEY>`: a secret API key (002)"}
