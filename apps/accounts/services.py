"""Writes for accounts and API keys."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.audit.models import AuditEventType
from apps.audit.services import audit_record
from apps.core.keys import derive_key

from .key_cache import api_key_cache_touch, api_key_cached, keys_version_bump
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


# What api_key_create issues: a kind's prefix, 12 hex digits to look it up by, and a URL-safe secret without "_".
_KINDS = "|".join(re.escape(prefix) for prefix in KEY_PREFIXES.values())
_KEY_SHAPE = re.compile(rf"((?:{_KINDS})[0-9a-f]{{12}})_[A-Za-z0-9-]+")


def split_api_key(plaintext: str) -> str | None:
    """The lookup prefix of a key such as ``lp_sk_<12 hex>_<secret>``, or None if malformed.

    A character outside the keys' alphabet makes the key unknown before any lookup: a NUL in the
    prefix made PostgreSQL refuse the query (a 500 on every caller).
    """
    shape = _KEY_SHAPE.fullmatch(plaintext)
    return shape[1] if shape else None


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
    audit_record(
        account_id=account.pk,
        type=AuditEventType.API_KEY_CREATED,
        subject_type="apiKey",
        subject_id=lookup,
        details={"kind": str(kind), "name": name},
    )
    return IssuedKey(api_key=api_key, plaintext=plaintext)


def api_key_revoke(*, api_key: ApiKey) -> None:
    with transaction.atomic():
        revoked = ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        if revoked:
            keys_version_bump()
            audit_record(
                account_id=api_key.account_id,
                type=AuditEventType.API_KEY_REVOKED,
                subject_type="apiKey",
                subject_id=api_key.prefix,
            )


def api_key_networks_parse(networks: list[str]) -> list[str]:
    """Normalised CIDR networks (``10.0.0.0/8``, ``2001:db8::/32``, a single address); ValueError names a bad one."""
    parsed = []
    for value in networks:
        try:
            parsed.append(str(ipaddress.ip_network(value.strip(), strict=False)))
        except ValueError:
            raise ValueError(f"{value!r} is not an IP network in CIDR notation.") from None
    return list(dict.fromkeys(parsed))


def api_key_networks_set(*, api_key: ApiKey, networks: list[str]) -> list[str]:
    """Set the key's IP allow-list (empty: anywhere)."""
    normalised = api_key_networks_parse(networks)
    with transaction.atomic():
        ApiKey.objects.filter(pk=api_key.pk).update(allowed_networks=normalised)
        keys_version_bump()
        audit_record(
            account_id=api_key.account_id,
            type=AuditEventType.API_KEY_NETWORKS_CHANGED,
            subject_type="apiKey",
            subject_id=api_key.prefix,
            details={"allowedNetworks": normalised},
        )
    api_key.allowed_networks = normalised
    return normalised


def api_key_address_allowed(*, api_key: ApiKey, address: str) -> bool:
    if not api_key.allowed_networks:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(network, strict=False) for network in api_key.allowed_networks)


def api_key_authenticate(*, plaintext: str, kind: str = ApiKey.Kind.SECRET) -> ApiKey | None:
    """The active key matching ``plaintext``, compared in constant time, or None.

    Keys that authenticated are cached per process for ``API_KEY_CACHE_SECONDS`` (apps/accounts/key_cache.py).
    """
    lookup = split_api_key(plaintext)
    if lookup is None:
        return None
    hashed = hash_api_key(plaintext)
    api_key = api_key_cached(
        prefix=lookup,
        hashed_key=hashed,
        load=lambda: ApiKey.objects.select_related("account").filter(prefix=lookup, revoked_at__isnull=True).first(),
    )
    if api_key is None or api_key.kind != kind:
        return None
    if not hmac.compare_digest(api_key.hashed_key, hashed):
        return None
    now = timezone.now()
    # Touch last_used_at at most once a minute to keep hot keys off the write path.
    if api_key.last_used_at is None or now - api_key.last_used_at > timedelta(minutes=1):
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
        api_key_cache_touch(prefix=lookup, hashed_key=hashed, at=now)
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
