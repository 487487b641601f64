"""Where a finished session sends the browser: its redirect target with the results it asked for, signed.

The target and the ``re*`` parameters come from the session's typed config
(``redirectConfig``, ``resultParameterConfig``); ``apps.signing.redirects``
appends and signs them. Parameter names and values: docs/signing.md ("Result redirects").
"""

from __future__ import annotations

import logging
import math
import uuid

from apps.signing.canonical import QueryStringError
from apps.signing.redirects import redirect_url_sign
from apps.verifications.enums import VerifierResult
from apps.verifications.session_config import ResultParameterConfig

from .models import Session

logger = logging.getLogger(__name__)

# A verifier's stored result as the redirect spells it (NotExecuted, or nothing stored: "not_executed").
_RESULT_VALUES: dict[str | None, str] = {VerifierResult.PASS: "passed", VerifierResult.FAIL: "failed"}


def _result(value: str | None) -> str:
    return _RESULT_VALUES.get(value, "not_executed")


def _verification_result(session: Session) -> str:
    """passed, failed, or Cancelled when the person declined consent or cancelled (docs/signing.md)."""
    if session.status == Session.Status.CANCELLED:
        return "Cancelled"
    return "passed" if session.passed else "failed"


def _face_id(value: str) -> str:
    try:
        return uuid.UUID(value).hex
    except ValueError:
        return value.replace("-", "").lower()


def result_params(*, session: Session, flags: ResultParameterConfig) -> list[tuple[str, str]]:
    """The ``re*`` result parameters ``flags`` includes, in documented order.

    A value the session does not have (no faceId, no age) is left out rather than sent empty.
    """
    age = session.estimated_age
    candidates: list[tuple[bool, str, object]] = [
        (flags.include_session_id, "reVerificationSessionId", str(session.id)),
        (flags.include_verification_result, "reVerificationResult", _verification_result(session)),
        (flags.include_liveness_check_result, "reLivenessResult", _result(session.liveness_result)),
        (flags.include_face_recognition_result, "reFaceRecognitionResult", _result(session.face_recognition_result)),
        (flags.include_age_verification_result, "reAgeVerificationResult", _result(session.age_result)),
        (flags.include_gender_verification_result, "reGenderVerificationResult", _result(session.gender_result)),
        (flags.include_face_id, "reFaceId", _face_id(session.face_id) if session.face_id else None),
        # Truncated, as people count age: 17.9 is still 17.
        (flags.include_age, "reAge", math.floor(age) if age is not None else None),
        (flags.include_gender, "reGender", str(session.estimated_gender).lower() if session.estimated_gender else None),
        (flags.include_correlation_id, "reCorrelationId", session.external_id or None),
        (flags.include_total_face_count, "reTotalFaceCount", session.total_face_count),
        (flags.include_failed_reason, "reFailedReason", ",".join(session.verification_failed_reasons or []) or None),
    ]
    if session.typed_config.verifiers.face_recognition.searches_users:
        # Identify and Recovery name the user (or no one) in every redirect: it is their whole answer.
        similarity = session.user_similarity
        candidates += [
            (True, "reEntryUserId", str(session.entry_user_id) if session.entry_user_id and session.passed else None),
            (True, "reUserSimilarity", f"{similarity:.4f}" if similarity is not None else None),
        ]
    return [(name, str(value)) for included, name, value in candidates if included and value is not None]


def result_redirect_url(*, session: Session) -> str | None:
    """Where the browser goes when ``session`` is finished, or None without a redirect URL.

    ``passedUrl`` when the session passed, else ``failedUrl``, plus the custom input
    parameters (with ``includeCustomInputParameters``) and the included ``re*``
    results; signed (with ``includeSignature``) anew on every call.
    """
    config = session.typed_config
    target = config.redirect.target(passed=session.passed)
    if not target:
        return None
    flags = config.result_parameters
    custom: dict[str, str] = {}
    if flags.include_custom_input_parameters:
        custom = {str(k): str(v) for k, v in (session.custom_input_parameters or {}).items()}
    try:
        return redirect_url_sign(
            account=session.account,
            target=target,
            params=result_params(session=session, flags=flags),
            custom=custom,
            signed=flags.include_signature,
        )
    except QueryStringError:
        logger.error("Redirect target of session %s has an ambiguous query string; not redirecting", session.id)
        return None
