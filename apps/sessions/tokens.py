"""Session tokens (JWT, single use) and hosted-page keys.

The sessionToken opens the capture socket of exactly one session, once: its
``jti`` is recorded in ``UsedSessionToken`` on first use (a primary-key insert,
so two racing sockets cannot both win). Every key is derived for its own
purpose, so an API token or a webhook secret can never pass as a session token.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

import jwt
from django.conf import settings
from django.core import signing
from django.utils import timezone

from apps.core.keys import derive_key

SESSION_TOKEN_AUDIENCE = "liveproof:session"  # noqa: S105 - a JWT audience, not a secret
_PAGE_SALT = "liveproof.capture.page-key"


@dataclass(frozen=True)
class SessionClaims:
    session_id: str
    jti: str


class SessionTokenError(Exception):
    """``code``: invalidToken | tokenExpired."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def session_token_issue(*, session_id: uuid.UUID | str, ttl_seconds: int | None = None) -> str:
    """A fresh HS256 JWT for one session: ``aud``, ``sub``, ``exp`` (≤ 10 min), ``jti``."""
    now = timezone.now()
    ttl = min(int(ttl_seconds or settings.SESSION_TOKEN_TTL_SECONDS), 600)
    claims = {
        "aud": SESSION_TOKEN_AUDIENCE,
        "sub": str(session_id),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl)).timestamp()),
        "jti": secrets.token_hex(16),
    }
    return jwt.encode(claims, derive_key("session-token"), algorithm="HS256")


def _claims(token: str, *, verify_exp: bool) -> dict[str, object]:
    return jwt.decode(
        token,
        derive_key("session-token"),
        algorithms=["HS256"],
        audience=SESSION_TOKEN_AUDIENCE,
        options={"require": ["exp", "aud", "sub", "jti"], "verify_exp": verify_exp},
    )


def session_token_decode(*, token: str) -> SessionClaims:
    """Verify signature, audience and expiry; raise SessionTokenError otherwise."""
    if not isinstance(token, str) or not token or len(token) > 4096:
        raise SessionTokenError("invalidToken", "The session token is missing or malformed.")
    try:
        claims = _claims(token, verify_exp=True)
    except jwt.ExpiredSignatureError as exc:
        raise SessionTokenError("tokenExpired", "The session token has expired.") from exc
    except jwt.PyJWTError as exc:
        raise SessionTokenError("invalidToken", "The session token is invalid.") from exc
    return SessionClaims(session_id=str(claims["sub"]), jti=str(claims["jti"]))


def session_token_expired_session(*, token: str) -> str | None:
    """The session an authentic session token names once it has expired; None for a live, forged or malformed one.

    Only enough for that session's page to say why it no longer opens (the Web SDK mounted after the token's
    ten minutes): it opens nothing and is never spent."""
    try:
        session_token_decode(token=token)
    except SessionTokenError as exc:
        if exc.code == "tokenExpired":
            return str(_claims(token, verify_exp=False)["sub"])
    return None


def page_key_create(*, session_id: uuid.UUID | str) -> str:
    """The key in ``sessionUrl`` that lets the hosted page mint fresh session tokens."""
    return signing.Signer(key=derive_key("session-page").hex(), salt=_PAGE_SALT).sign(str(session_id)).split(":")[-1]


def page_key_check(*, session_id: uuid.UUID | str, key: str) -> bool:
    signer = signing.Signer(key=derive_key("session-page").hex(), salt=_PAGE_SALT)
    try:
        return signer.unsign(f"{session_id}:{key}") == str(session_id)
    except signing.BadSignature:
        return False
