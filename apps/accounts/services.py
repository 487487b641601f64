"""Writes for accounts and API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.keys import derive_key

from .models import Account, ApiKey

KEY_PREFIXES = {ApiKey.Kind.SECRET: "lp_sk_", ApiKey.Kind.PUBLISHABLE: "lp_pk_"}
API_TOKEN_AUDIENCE = "liveproof:api"  # noqa: S105 - a JWT audience, not a secret


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    plaintext: str


def hash_api_key(plaintext: str) -> str:
    """Keyed hash of a whole API key; the database never holds a usable key."""
    return hmac.new(derive_key("api-key-hash"), plaintext.encode(), hashlib.sha256).hexdigest()


def split_api_key(plaintext: str) -> str | None:
    """The lookup prefix of a key such as ``lp_sk_<12 chars>_<secret>``, or None if malformed."""
    parts = plaintext.split("_")
    if len(parts) != 4 or f"{parts[0]}_{parts[1]}_" not in KEY_PREFIXES.values() or len(parts[2]) != 12:
        return None
    return "_".join(parts[:3])


def account_get_or_create(*, name: str) -> Account:
    account, _ = Account.objects.get_or_create(name=name)
    return account


@transaction.atomic
def api_key_create(*, account: Account, name: str = "", kind: str = ApiKey.Kind.SECRET) -> IssuedKey:
    """Create a key; the plaintext is returned once and never stored."""
    lookup = KEY_PREFIXES[ApiKey.Kind(kind)] + secrets.token_hex(6)
    plaintext = f"{lookup}_{secrets.token_urlsafe(32).replace('_', 'x')}"
    api_key = ApiKey.objects.create(
        account=account, name=name, kind=kind, prefix=lookup, hashed_key=hash_api_key(plaintext)
    )
    return IssuedKey(api_key=api_key, plaintext=plaintext)


def api_key_revoke(*, api_key: ApiKey) -> None:
    ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def api_key_authenticate(*, plaintext: str, kind: str = ApiKey.Kind.SECRET) -> ApiKey | None:
    """The active key matching ``plaintext``, compared in constant time, or None."""
    lookup = split_api_key(plaintext)
    if lookup is None:
        return None
    api_key = ApiKey.objects.select_related("account").filter(prefix=lookup, revoked_at__isnull=True).first()
    if api_key is None or api_key.kind != kind:
        return None
    if not hmac.compare_digest(api_key.hashed_key, hash_api_key(plaintext)):
        return None
    now = timezone.now()
    # Touch last_used_at at most once a minute to keep hot keys off the write path.
    if api_key.last_used_at is None or now - api_key.last_used_at > timedelta(minutes=1):
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


def api_token_issue(*, api_key: ApiKey) -> tuple[str, datetime]:
    """A short-lived JWT usable as ``Authorization: Bearer``; it dies with its key."""
    now = timezone.now()
    expires = now + timedelta(seconds=int(settings.API_TOKEN_TTL_SECONDS))
    claims = {
        "aud": API_TOKEN_AUDIENCE,
        "sub": str(api_key.account_id),
        "kid": api_key.prefix,
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": secrets.token_hex(16),
    }
    return jwt.encode(claims, derive_key("api-token"), algorithm="HS256"), expires


def api_token_authenticate(*, token: str) -> ApiKey | None:
    try:
        claims = jwt.decode(
            token,
            derive_key("api-token"),
            algorithms=["HS256"],
            audience=API_TOKEN_AUDIENCE,
            options={"require": ["exp", "aud", "sub", "kid"]},
        )
    except jwt.PyJWTError:
        return None
    return (
        ApiKey.objects.select_related("account")
        .filter(prefix=claims["kid"], account_id=claims["sub"], revoked_at__isnull=True)
        .first()
    )
