"""Signing secrets, signed query strings and nonces: the services every signing entry point uses."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.accounts.models import Account
from apps.audit.models import AuditEventType
from apps.audit.services import audit_record
from apps.core.errors import ApplicationError
from apps.core.keys import derive_key

from .canonical import (
    EXPIRATION_PARAM,
    MAX_QUERY_STRING_LENGTH,
    NONCE_PARAM,
    SIGNATURE_PARAM,
    Params,
    QueryStringError,
    encode_component,
    query_parse,
    signature_compute,
    signature_matches,
)
from .models import SigningSecret, UsedNonce

# Per-purpose keys: a signature made for one purpose never verifies for another,
# so a signed result redirect cannot be replayed as a signed hosted link.
PURPOSE_LINK = "link"  # /v1/signature/create and hosted verification links
PURPOSE_RESULT = "result"  # result redirects to passedUrl / failedUrl

MAX_PREVIOUS_SECRETS = 5
SECRET_PREFIX = "lp_ss_"  # noqa: S105 - a label, not a secret
DEFAULT_EXPIRATION_SECONDS = 86400
MAX_EXPIRATION_SECONDS = 604800
NONCE_RE = re.compile(r"[0-9a-f]{32}")
_EXPIRATION_RE = re.compile(r"[0-9]{1,12}")
_LAST_TIMESTAMP = 253402300799  # 9999-12-31 23:59:59 UTC: the last second a datetime holds
# Parameters the service adds itself; an input that already carries one is refused.
SIGNING_PARAMS = (EXPIRATION_PARAM, NONCE_PARAM, SIGNATURE_PARAM)


class Outcome(StrEnum):
    """The result of checking a signed query string: ``Valid`` or the first failing check."""

    VALID = "Valid"
    INVALID_SIGNATURE = "InvalidSignature"
    INVALID_EXPIRATION = "InvalidExpiration"
    EXPIRED = "Expired"
    INVALID_NONCE = "InvalidNonce"
    NONCE_ALREADY_USED = "NonceAlreadyUsed"


@dataclass(frozen=True)
class SignedQuery:
    signature: str
    signed_query_string: str
    expiration: int | None
    nonce: str | None


class NonceAlreadyUsedError(Exception):
    """The nonce already started a session."""


# --- Secrets -----------------------------------------------------------------------


def signing_secret_value(*, secret: SigningSecret) -> str:
    """The secret an integrator uses to sign and validate locally: ``lp_ss_`` + 64 hex.

    Derived as HMAC-SHA256(derive_key("signing-secret"), salt): the database holds only
    the salt, so it cannot forge signatures without SECRET_KEY.
    """
    digest = hmac.new(derive_key("signing-secret"), secret.salt.encode(), hashlib.sha256).hexdigest()
    return f"{SECRET_PREFIX}{digest}"


def signing_secret_current(*, account: Account) -> SigningSecret:
    """The account's current secret, created on first use."""
    current = SigningSecret.objects.filter(account=account, retired_at__isnull=True).first()
    if current is not None:
        return current
    try:
        with transaction.atomic():
            return SigningSecret.objects.create(account=account, salt=secrets.token_hex(32))
    except IntegrityError:
        # A concurrent first use created it; the partial unique constraint kept it single.
        return SigningSecret.objects.get(account=account, retired_at__isnull=True)


def signing_secrets_valid(*, account: Account) -> list[SigningSecret]:
    """The current secret first, then up to 5 retired secrets still inside the rotation overlap."""
    cutoff = timezone.now() - timedelta(seconds=int(settings.SIGNING_SECRET_OVERLAP_SECONDS))
    # One query: the current secret (retired_at NULL sorts first), then the newest retired ones. Capped, so
    # rotating in a loop cannot make every validation compute hundreds of HMACs.
    rows = list(
        SigningSecret.objects.filter(Q(retired_at__isnull=True) | Q(retired_at__gte=cutoff), account=account).order_by(
            F("retired_at").desc(nulls_first=True), "-id"
        )[: 1 + MAX_PREVIOUS_SECRETS]
    )
    if rows and rows[0].retired_at is None:
        return rows
    return [signing_secret_current(account=account), *rows[:MAX_PREVIOUS_SECRETS]]


@transaction.atomic
def signing_secret_rotate(*, account: Account, revoke_previous: bool = False) -> SigningSecret:
    """Start a new secret. The old one keeps validating for SIGNING_SECRET_OVERLAP_SECONDS,
    unless ``revoke_previous`` (after a leak), which voids every earlier secret at once.
    """
    # Lock the account row so two rotations cannot both retire the same secret.
    type(account).objects.select_for_update().filter(pk=account.pk).first()
    now = timezone.now()
    if revoke_previous:
        SigningSecret.objects.filter(account=account).delete()
    else:
        SigningSecret.objects.filter(account=account, retired_at__isnull=True).update(retired_at=now)
    created = SigningSecret.objects.create(account=account, salt=secrets.token_hex(32), created_at=now)
    audit_record(
        account_id=account.pk,
        type=AuditEventType.SIGNING_SECRET_ROTATED,
        subject_type="signingSecret",
        subject_id=created.pk,
        details={"revokedPrevious": revoke_previous},
    )
    return created


def _secret_values(*, account: Account) -> list[str]:
    return [signing_secret_value(secret=secret) for secret in signing_secrets_valid(account=account)]


# --- Signing -----------------------------------------------------------------------


def query_sign(*, account: Account, params: Params, purpose: str) -> str:
    """The ``reSignature`` for ``params`` under the account's current secret."""
    secret = signing_secret_value(secret=signing_secret_current(account=account))
    return signature_compute(secret=secret, purpose=purpose, params=params)


def _append(query_string: str, extra: Sequence[tuple[str, str]]) -> str:
    prefix = "?" if query_string.startswith("?") else ""
    body = query_string[len(prefix) :].rstrip("&")
    tail = "&".join(f"{name}={encode_component(value)}" for name, value in extra)
    return f"{prefix}{body}&{tail}" if body else f"{prefix}{tail}"


def signature_create(
    *,
    account: Account,
    query_string: str,
    enable_nonce: bool = False,
    expiration_enabled: bool = True,
    expiration_in_seconds: int = DEFAULT_EXPIRATION_SECONDS,
) -> SignedQuery:
    """Sign ``query_string`` for a hosted link, adding ``reExpiration`` and ``reNonce`` as asked.

    The integrator's parameters are kept as written; ``reExpiration``, ``reNonce`` and
    ``reSignature`` (last) are appended. Raises ApplicationError (400) for a nonce
    without expiration, an out-of-range lifetime, or a query string that has no
    canonical form.
    """
    if enable_nonce and not expiration_enabled:
        raise ApplicationError(
            "A nonce requires expiration.", fields={"securitySettings.enableNonce": ["A nonce requires expiration."]}
        )
    if not 1 <= expiration_in_seconds <= MAX_EXPIRATION_SECONDS:
        raise ApplicationError(
            "expirationInSeconds is out of range.",
            fields={"securitySettings.expirationInSeconds": [f"Must be between 1 and {MAX_EXPIRATION_SECONDS}."]},
        )
    try:
        params = query_parse(query_string)
    except QueryStringError as exc:
        raise ApplicationError(str(exc), fields={"queryString": [str(exc)]}) from None
    reserved = [name for name, _ in params if name in SIGNING_PARAMS]
    if reserved:
        message = f"'{reserved[0]}' is added by this endpoint and may not be in the query string."
        raise ApplicationError(message, fields={"queryString": [message]})
    extra: list[tuple[str, str]] = []
    expiration = nonce = None
    if expiration_enabled:
        expiration = int(timezone.now().timestamp()) + expiration_in_seconds
        extra.append((EXPIRATION_PARAM, str(expiration)))
    if enable_nonce:
        nonce = uuid.uuid4().hex
        extra.append((NONCE_PARAM, nonce))
    signature = query_sign(account=account, params=[*params, *extra], purpose=PURPOSE_LINK)
    signed = _append(query_string, [*extra, (SIGNATURE_PARAM, signature)])
    if len(signed) > MAX_QUERY_STRING_LENGTH:
        # A link's query string is read up to that length (canonical.query_parse): signed, it must still fit.
        message = (
            f"Signed, this query string would be {len(signed)} characters, longer than the "
            f"{MAX_QUERY_STRING_LENGTH} a hosted link may have; shorten it."
        )
        raise ApplicationError(message, fields={"queryString": [message]})
    return SignedQuery(signature=signature, signed_query_string=signed, expiration=expiration, nonce=nonce)


# --- Checking ----------------------------------------------------------------------


def expiration_of(params: Params) -> datetime | None:
    """The ``reExpiration`` of already-validated ``params`` as a UTC datetime, or None."""
    value = dict(params).get(EXPIRATION_PARAM)
    return datetime.fromtimestamp(int(value), tz=UTC) if value is not None else None


def query_check(
    *, account: Account, params: Params, purposes: Sequence[str], require_signature: bool = True
) -> Outcome:
    """Check parsed ``params`` in the order signature -> expiration -> nonce; never writes.

    * ``InvalidSignature``: ``reSignature`` missing (when required), not 64 lower-case hex,
      or not made by one of the account's valid secrets for one of ``purposes``;
    * ``InvalidExpiration``: ``reExpiration`` is not a whole number of seconds, or lies past the year 9999;
    * ``Expired``: the clock is past ``reExpiration`` (at that very second it is still valid);
    * ``InvalidNonce``: ``reNonce`` is not 32 lower-case hex, or comes without ``reExpiration``;
    * ``NonceAlreadyUsed``: the nonce already started a session.
    """
    values = dict(params)
    if SIGNATURE_PARAM in values or require_signature:
        if not signature_matches(secrets=_secret_values(account=account), purposes=purposes, params=params):
            return Outcome.INVALID_SIGNATURE
    expiration = values.get(EXPIRATION_PARAM)
    if expiration is not None:
        if not _EXPIRATION_RE.fullmatch(expiration) or int(expiration) > _LAST_TIMESTAMP:
            return Outcome.INVALID_EXPIRATION
        if timezone.now().timestamp() > int(expiration):
            return Outcome.EXPIRED
    nonce = values.get(NONCE_PARAM)
    if nonce is not None:
        if expiration is None or not NONCE_RE.fullmatch(nonce):
            return Outcome.INVALID_NONCE
        if UsedNonce.objects.filter(account=account, nonce=nonce).exists():
            return Outcome.NONCE_ALREADY_USED
    return Outcome.VALID


def signature_validate(*, account: Account, query_string: str) -> Outcome:
    """What ``POST /v1/signature/validate`` answers: read-only, a nonce is never consumed.

    Accepts query strings signed for hosted links and for result redirects, of any length the request body
    allows: a result redirect with many custom parameters is longer than a link. Raises ApplicationError (400)
    when the query string has no canonical form.
    """
    try:
        params = query_parse(query_string, max_length=None)
    except QueryStringError as exc:
        raise ApplicationError(str(exc), fields={"queryString": [str(exc)]}) from None
    return query_check(account=account, params=params, purposes=(PURPOSE_LINK, PURPOSE_RESULT))


def nonce_consume(
    *, account: Account, nonce: str, expires_at: datetime, session_id: uuid.UUID | None = None
) -> UsedNonce:
    """Mark ``nonce`` used; call inside the transaction that creates the session.

    The unique constraint decides between concurrent openings: the second insert
    waits for the first transaction and then fails, raising NonceAlreadyUsedError.
    """
    try:
        with transaction.atomic():
            return UsedNonce.objects.create(account=account, nonce=nonce, expires_at=expires_at, session_id=session_id)
    except IntegrityError:
        raise NonceAlreadyUsedError(nonce) from None


def used_nonces_purge() -> int:
    """Delete nonces whose links have expired (they are refused as expired before any nonce check)."""
    deleted, _ = UsedNonce.objects.filter(expires_at__lt=timezone.now() - timedelta(minutes=5)).delete()
    return deleted


def signing_secrets_rotate_due(*, now: datetime | None = None) -> int:
    """Rotate every account's current secret older than SIGNING_SECRET_ROTATION_DAYS; returns how many.

    Idempotent: a rotated account's new secret is young, so a second run finds nothing.
    """
    days = int(settings.SIGNING_SECRET_ROTATION_DAYS)
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    due = SigningSecret.objects.filter(retired_at__isnull=True, created_at__lt=cutoff).values_list(
        "account_id", flat=True
    )
    rotated = 0
    for account in Account.objects.filter(pk__in=list(due)):
        with transaction.atomic():
            # Checked again under the rotation's lock: a racing runner may have rotated it already.
            if SigningSecret.objects.filter(account=account, retired_at__isnull=True, created_at__lt=cutoff).exists():
                signing_secret_rotate(account=account)
                rotated += 1
    return rotated
