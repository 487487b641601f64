"""Hosted verification links: ``/v/<verificationId>?...`` opens a session for the visitor.

The query string is read with the one canonical parser. Reserved parameters
(``re`` + an upper-case letter) configure the session; every other parameter is
a custom input parameter. The link is refused, and nothing is created, when it
is ambiguous, unsigned or badly signed where ``forceSignedInput`` asks for a
signature, expired, or its nonce already started a session.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import transaction

from apps.accounts.models import Account
from apps.core.errors import ApplicationError
from apps.core.languages import LOCALES
from apps.core.ratelimits import RateLimitExceeded, rate_limit_count
from apps.signing.canonical import EXPIRATION_PARAM, NONCE_PARAM, SIGNATURE_PARAM, QueryStringError, query_parse
from apps.signing.redirects import is_reserved, redirect_override_check
from apps.signing.services import (
    PURPOSE_LINK,
    NonceAlreadyUsedError,
    Outcome,
    expiration_of,
    nonce_consume,
    query_check,
)
from apps.verifications.enums import AgeType, FaceRecognitionType, GenderType, LivenessType
from apps.verifications.models import VerificationConfig
from apps.verifications.session_config import SessionConfig

from .models import Session
from .services import session_create
from .services.admission import ServiceBusyError

EXTERNAL_ID_PARAM = "reExternalId"
LOCALE_PARAM = "reLocale"  # the hosted page's language, one of apps.core.languages.LOCALES
MAX_EXTERNAL_ID_LENGTH = 200
# Verifier overrides (with allowVerifierOverrides): "true" disables the verifier for this session.
VERIFIER_OVERRIDES: dict[str, tuple[str, str]] = {
    "reDisableLivenessVerifier": ("liveness", LivenessType.DISABLED),
    "reDisableAgeVerifier": ("age", AgeType.DISABLED),
    "reDisableGenderVerifier": ("gender", GenderType.DISABLED),
    "reDisableFaceRecognitionVerifier": ("faceRecognition", FaceRecognitionType.DISABLED),
}
# Redirect overrides (with allowRedirectOverrides), each checked against the account's allowed origins.
REDIRECT_OVERRIDES = {"rePassedUrl": "passedUrl", "reFailedUrl": "failedUrl"}
_BOOLEANS = {"true": True, "false": False}


def result_parameter_override_name(flag: str) -> str:
    """``includeAge`` -> ``reIncludeAge``: the link parameter overriding one resultParameterConfig flag."""
    return f"re{flag[0].upper()}{flag[1:]}"


class LinkRefused(Exception):  # noqa: N818 - reads as the outcome it is
    """Why a hosted link creates nothing; ``kind`` picks the error page, ``status`` its HTTP status."""

    def __init__(self, kind: str, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.message = message
        self.retry_after = retry_after  # seconds, for a 429 or 503


_REFUSALS = {
    Outcome.INVALID_SIGNATURE: ("badSignature", 403, "The link's signature is missing or does not match."),
    Outcome.INVALID_EXPIRATION: ("malformed", 400, "The link's reExpiration is not a Unix time."),
    Outcome.EXPIRED: ("expired", 410, "The link has expired."),
    Outcome.INVALID_NONCE: ("malformed", 400, "The link's reNonce is malformed or has no reExpiration."),
    Outcome.NONCE_ALREADY_USED: ("used", 410, "The link has already been used."),
}


def _boolean(params: dict[str, str], name: str) -> bool:
    value = params[name]
    if value not in _BOOLEANS:
        raise LinkRefused("malformed", 400, f"{name} must be true or false.")
    return _BOOLEANS[value]


def link_overrides(*, account: Account, config: SessionConfig, params: dict[str, str]) -> dict[str, Any]:
    """Session overrides from the link, limited to what ``sessionOverrideConfig`` allows.

    Overrides the configuration does not allow are ignored, as the Service API
    document says; an allowed one with a malformed value refuses the link.
    """
    allowed = config.overrides
    overrides: dict[str, Any] = {}
    if allowed.allow_verifier_overrides:
        disabled = {verifier: {"type": str(kind)} for name, (verifier, kind) in VERIFIER_OVERRIDES.items()
                    if name in params and _boolean(params, name)}  # fmt: skip
        if disabled:
            overrides["verifierConfigs"] = disabled
    if allowed.allow_result_parameter_overrides:
        stored = config.result_parameters.to_json()
        changed = {flag: _boolean(params, result_parameter_override_name(flag))
                   for flag in stored if result_parameter_override_name(flag) in params}  # fmt: skip
        if changed:
            overrides["resultParameterConfig"] = {**stored, **changed}
    if allowed.allow_redirect_overrides:
        targets = {key: params[name] for name, key in REDIRECT_OVERRIDES.items() if name in params}
        for name, key in REDIRECT_OVERRIDES.items():
            if key in targets:
                try:
                    redirect_override_check(account=account, url=targets[key], field=name)
                except ApplicationError as exc:
                    raise LinkRefused("badRedirect", 400, f"{name}: {exc.fields[name][0]}") from None
        if targets:
            # A URL the config leaves unset stays absent: the block refuses null.
            urls = {key: url for key, url in config.redirect.to_json().items() if url is not None}
            overrides["redirectConfig"] = {**urls, **targets}
    return overrides


def _verification(verification_id: uuid.UUID) -> VerificationConfig:
    verification = VerificationConfig.objects.select_related("account").filter(id=verification_id).first()
    if verification is None:
        raise LinkRefused("unknown", 404, "There is no verification with this id.")
    return verification


def _opening_count(client_address: str, *, signed: bool) -> None:
    """Count an opening per client address; LinkRefused (429) over HOSTED_LINK_(UN)SIGNED_PER_HOUR."""
    kind = "signed" if signed else "unsigned"
    rate = f"{int(getattr(settings, f'HOSTED_LINK_{kind.upper()}_PER_HOUR'))}/h"
    try:
        rate_limit_count(group=f"hosted-links-{kind}", rate=rate, key=client_address)
    except RateLimitExceeded as exc:
        message = "Too many verifications from this address; try again later."
        raise LinkRefused("rateLimited", 429, message, retry_after=exc.retry_after) from None


def hosted_link_open(*, verification_id: uuid.UUID, query_string: str, client_address: str = "unknown") -> Session:
    """Create the session a hosted link asks for and return it; raise LinkRefused otherwise.

    The nonce is consumed in the same transaction that creates the session, so two
    simultaneous openings of one link create exactly one session, and a session
    that fails to be created leaves the nonce unused. Unsigned openings (configs
    without forceSignedInput) and signed ones are rate-limited per ``client_address``, each kind on its own.
    """
    verification = _verification(verification_id)
    account, config = verification.account, verification.typed_config
    try:
        pairs = query_parse(query_string)
    except QueryStringError as exc:
        raise LinkRefused("malformed", 400, str(exc)) from None
    if any("\x00" in part for pair in pairs for part in pair):
        # PostgreSQL cannot store NUL in text or JSONB: refuse it here rather than fail in the INSERT.
        raise LinkRefused("malformed", 400, "The query string may not contain NUL (%00) characters.")
    params = dict(pairs)
    force = config.security.force_signed_input
    outcome = query_check(account=account, params=pairs, purposes=(PURPOSE_LINK,), require_signature=force)
    if outcome is not Outcome.VALID:
        raise LinkRefused(*_REFUSALS[outcome])
    _opening_count(client_address, signed=SIGNATURE_PARAM in params)
    external_id = params.get(EXTERNAL_ID_PARAM)
    if external_id is not None and not 1 <= len(external_id) <= MAX_EXTERNAL_ID_LENGTH:
        raise LinkRefused("malformed", 400, f"reExternalId must be 1 to {MAX_EXTERNAL_ID_LENGTH} characters.")
    locale = params.get(LOCALE_PARAM)
    if locale is not None and locale not in LOCALES:
        raise LinkRefused("malformed", 400, f"{LOCALE_PARAM} must be one of: {', '.join(LOCALES)}.")
    overrides = link_overrides(account=account, config=config, params=params)
    recognition = config.verifiers.face_recognition
    recognition_disabled = "faceRecognition" in (overrides.get("verifierConfigs") or {})
    if recognition.needs_external_id and not recognition_disabled and external_id is None:
        # Refused now rather than failing the verdict after the user did the whole capture.
        raise LinkRefused("malformed", 400, f"reExternalId is required for {recognition.type.value} face recognition.")
    # Kept whatever includeCustomInputParameters says: that flag decides what the result redirect echoes, while
    # get-session-result returns everything "regardless of the result parameter configuration" (001).
    custom = {name: value for name, value in pairs if not is_reserved(name)}
    nonce = params.get(NONCE_PARAM)
    try:
        with transaction.atomic():
            used = None
            if nonce is not None and EXPIRATION_PARAM in params:
                expires_at = expiration_of(pairs)
                assert expires_at is not None  # checked by query_check
                used = nonce_consume(account=account, nonce=nonce, expires_at=expires_at)
            session = session_create(
                account=account,
                body={"locale": locale} if locale else {},
                verification_id=verification.id,
                custom_input_parameters=custom,
                external_id=external_id,
                overrides=overrides or None,
            )
            if used is not None:
                type(used).objects.filter(pk=used.pk).update(session_id=session.id)
    except NonceAlreadyUsedError:
        raise LinkRefused(*_REFUSALS[Outcome.NONCE_ALREADY_USED]) from None
    except ServiceBusyError as exc:  # admission control: the workers are full; the nonce was not used up
        raise LinkRefused("busy", 503, exc.message, exc.retry_after) from None
    except ApplicationError as exc:
        detail = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in exc.fields.items())
        raise LinkRefused("invalid", exc.status if exc.status < 500 else 400, detail or exc.message) from None
    return session
