"""The verdict rules: how the engine's verdict and the session's config become the stored results.

Pure functions over values (no database, no engine), in two steps because face
recognition, which needs the database, sits between them:

1. ``verifier_results``: liveness, age and gender results, the failure reasons so
   far, and whether the face may be recognised and kept;
2. ``session_outcome``: with face recognition's result, the session's overall
   result and its failure reasons.

Around them: ``liveness_verdict`` (a config's own liveness thresholds), ``age_assessment``
(threshold with an error margin, a stored date of birth first, minors) and
``user_recognition_result`` (Identify and Recovery against the account's users).
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from apps.verifications.enums import AgeDirection, AgeType, VerifierResult
from apps.verifications.session_config import AgeConfig, GenderConfig, VerifierConfigs

# Failure reasons these rules add to the engine's own.
ATTEMPTS_EXHAUSTED = "attemptsExhausted"
AGE_VERIFICATION_FAILED = "ageVerificationFailed"
MULTIPLE_FACES = "multipleFaces"
AGE_DOCUMENT_REQUIRED = "ageDocumentRequired"  # the estimate is within the margin: ask for a document
DATE_OF_BIRTH_MISMATCH = "dateOfBirthMismatch"
# A mode that must match (Identify, Recovery, Match/UniqueMatch/DuplicateVerification) compared no face:
# a minor's session keeps none, or the face was not live with liveness disabled.
FACE_RECOGNITION_NOT_EXECUTED = "faceRecognitionNotExecuted"
# Reasons that keep a face out of every collection even when the person is live.
_RECOGNITION_VETOES = (MULTIPLE_FACES, AGE_VERIFICATION_FAILED, AGE_DOCUMENT_REQUIRED)
# Under this age (estimated, or from a stored date of birth) a session keeps no face data (COPPA).
MINOR_AGE = 13
# Engine reasons after which a capture never passes, whatever a config's thresholds say.
_NEVER_PASS = ("noFace", "timeout")


@dataclass(frozen=True)
class VerifierResults:
    live: bool  # the engine's verdict was "pass"
    liveness: VerifierResult
    age: VerifierResult
    gender: VerifierResult
    reasons: tuple[str, ...]
    recognition_allowed: bool  # live and not vetoed: the face may be recognised, or kept for compare
    minor: bool = False  # under MINOR_AGE: no face data is kept, whatever the result
    recognition_required: bool = False  # the face recognition mode fails the session unless it ran
    risk_signals: tuple[str, ...] = ()


@dataclass(frozen=True)
class SessionOutcome:
    verification_result: VerifierResult
    failed_reasons: tuple[str, ...]  # empty when the session passed

    @property
    def failed(self) -> bool:
        return self.verification_result == VerifierResult.FAIL


def age_result(config: AgeConfig, estimated_age: float | None) -> VerifierResult:
    if not config.enabled:
        return VerifierResult.NOT_EXECUTED
    if estimated_age is None:
        return VerifierResult.FAIL
    if config.type != AgeType.THRESHOLD_VERIFICATION:
        return VerifierResult.PASS
    if config.direction == AgeDirection.BELOW:
        ok = estimated_age < config.threshold
    else:
        ok = estimated_age >= config.threshold
    return VerifierResult.PASS if ok else VerifierResult.FAIL


def liveness_verdict(
    *,
    engine_verdict: str,
    confidence: float,
    reasons: Sequence[str],
    pass_threshold: float | None,
    retry_threshold: float | None,
    engine_pass: float,
    engine_retry: float,
) -> str:
    """The engine's pass/fail/retry again under a config's own thresholds (None: the engine's).

    With no threshold of its own the engine's verdict stands. A capture the engine
    gave a reason against (``noFace``, ``timeout``, an attack, ...) never passes.
    """
    if pass_threshold is None and retry_threshold is None:
        return engine_verdict
    passing = pass_threshold if pass_threshold is not None else engine_pass
    retry = min(retry_threshold if retry_threshold is not None else engine_retry, passing)
    clean = engine_verdict == "pass" or not reasons
    if confidence >= passing and clean and not any(reason in _NEVER_PASS for reason in reasons):
        return "pass"
    return "retry" if confidence >= retry else "fail"


def age_in_years(date_of_birth: date, today: date) -> float:
    """Completed years plus the fraction of the current one (a birthday today counts)."""
    years = today.year - date_of_birth.year - ((today.month, today.day) < (date_of_birth.month, date_of_birth.day))
    last = _anniversary(date_of_birth, date_of_birth.year + years)
    following = _anniversary(date_of_birth, date_of_birth.year + years + 1)
    return years + (today - last).days / max((following - last).days, 1)


def _anniversary(born: date, year: int) -> date:
    """The birthday in ``year``: a 29 February birthday falls on 1 March in a common year, on the day in a leap one."""
    if (born.month, born.day) == (2, 29) and not calendar.isleap(year):
        return date(year, 3, 1)
    return born.replace(year=year)


@dataclass(frozen=True)
class AgeAssessment:
    result: VerifierResult
    reason: str | None  # ageVerificationFailed, ageDocumentRequired, or None
    source: str | None  # "estimate", "dateOfBirth", or None (not executed)
    minor: bool
    risk_signals: tuple[str, ...]


def _side(age: float, config: AgeConfig) -> bool:
    return age < config.threshold if config.direction == AgeDirection.BELOW else age >= config.threshold


def age_assessment(
    *, config: AgeConfig, estimated_age: float | None, margin: float, date_of_birth_age: float | None = None
) -> AgeAssessment:
    """The age verdict: a stored date of birth decides; else the estimate, never within ``margin`` of the threshold.

    An estimate within the margin is no pass: the result fails with ``ageDocumentRequired``
    (the integrator asks for a document). The estimate disagreeing with the date of birth
    by more than the margin is the risk signal ``dateOfBirthMismatch``.
    """
    known = date_of_birth_age if date_of_birth_age is not None else estimated_age
    minor = config.enabled and is_minor(estimated_age=estimated_age, date_of_birth_age=date_of_birth_age)
    signals: tuple[str, ...] = ()
    if date_of_birth_age is not None and estimated_age is not None and abs(estimated_age - date_of_birth_age) > margin:
        signals = (DATE_OF_BIRTH_MISMATCH,)
    if not config.enabled:
        return AgeAssessment(VerifierResult.NOT_EXECUTED, None, None, False, signals)
    if known is None:
        return AgeAssessment(VerifierResult.FAIL, AGE_VERIFICATION_FAILED, None, False, signals)
    source = "dateOfBirth" if date_of_birth_age is not None else "estimate"
    if config.type != AgeType.THRESHOLD_VERIFICATION:
        return AgeAssessment(VerifierResult.PASS, None, source, minor, signals)
    if date_of_birth_age is None and abs(known - config.threshold) < margin:
        return AgeAssessment(VerifierResult.FAIL, AGE_DOCUMENT_REQUIRED, source, minor, signals)
    if _side(known, config):
        return AgeAssessment(VerifierResult.PASS, None, source, minor, signals)
    return AgeAssessment(VerifierResult.FAIL, AGE_VERIFICATION_FAILED, source, minor, signals)


def is_minor(*, estimated_age: float | None, date_of_birth_age: float | None) -> bool:
    """Under MINOR_AGE by the stored date of birth, else by the estimate (False when neither is known)."""
    known = date_of_birth_age if date_of_birth_age is not None else estimated_age
    return known is not None and known < MINOR_AGE


def gender_result(config: GenderConfig, estimated_gender: str | None) -> VerifierResult:
    if not config.enabled:
        return VerifierResult.NOT_EXECUTED
    return VerifierResult.PASS if estimated_gender else VerifierResult.FAIL


def verifier_results(
    *,
    verifiers: VerifierConfigs,
    verdict: str,
    reasons: Sequence[str],
    estimated_age: float | None,
    estimated_gender: str | None,
    total_face_count: int,
    age_margin: float = 0.0,
    date_of_birth_age: float | None = None,
) -> VerifierResults:
    """Results of the final attempt: ``verdict`` is the engine's pass/fail/retry (a retry here has no attempt left)."""
    found = [str(reason) for reason in reasons]
    live = verdict == "pass"
    if verdict == "retry":
        found.append(ATTEMPTS_EXHAUSTED)
    assessment = age_assessment(
        config=verifiers.age, estimated_age=estimated_age, margin=age_margin, date_of_birth_age=date_of_birth_age
    )
    age = assessment.result
    if assessment.reason is not None:
        found.append(assessment.reason)
    crowded = verifiers.common.fail_on_multiple_faces and total_face_count > 1
    if crowded and MULTIPLE_FACES not in found:
        found.append(MULTIPLE_FACES)
    if verifiers.liveness.enabled:
        liveness = VerifierResult.PASS if live else VerifierResult.FAIL
    else:
        liveness = VerifierResult.NOT_EXECUTED
    # Recovery estimates the age without an age block: a minor by it keeps no face data either (003, COPPA).
    minor = verifiers.estimates_age and is_minor(estimated_age=estimated_age, date_of_birth_age=date_of_birth_age)
    return VerifierResults(
        live=live,
        liveness=liveness,
        age=age,
        gender=gender_result(verifiers.gender, estimated_gender),
        reasons=tuple(found),
        recognition_allowed=live and not minor and not any(reason in _RECOGNITION_VETOES for reason in found),
        minor=minor,
        recognition_required=verifiers.face_recognition.must_match,
        risk_signals=assessment.risk_signals,
    )


def session_outcome(
    *, results: VerifierResults, face_recognition: VerifierResult, recognition_reasons: Sequence[str] = ()
) -> SessionOutcome:
    """The session fails on failed liveness (when enabled), age, face recognition, or several faces,
    and when a mode that must match compared no face (a minor, or no live face with liveness disabled)."""
    reasons = [*results.reasons, *recognition_reasons]
    failed = (
        results.liveness == VerifierResult.FAIL
        or results.age == VerifierResult.FAIL
        or face_recognition == VerifierResult.FAIL
        or MULTIPLE_FACES in reasons
    )
    if not failed and results.recognition_required and face_recognition == VerifierResult.NOT_EXECUTED:
        failed = True
        reasons.append(FACE_RECOGNITION_NOT_EXECUTED)
    if not failed:
        return SessionOutcome(verification_result=VerifierResult.PASS, failed_reasons=())
    return SessionOutcome(verification_result=VerifierResult.FAIL, failed_reasons=tuple(dict.fromkeys(reasons)))


# --- Identify and Recovery ------------------------------------------------------------------------------


def user_recognition_result(
    *, recovery: bool, matched: bool, reason: str | None, date_of_birth_agrees: bool | None
) -> tuple[VerifierResult, tuple[str, ...]]:
    """Identify passes when exactly one user matched; Recovery when the claimed user matched and
    (when a date of birth is stored) the estimate agrees with it within the margin."""
    reasons: list[str] = [] if matched or reason is None else [reason]
    if recovery and date_of_birth_agrees is False:
        reasons.append(DATE_OF_BIRTH_MISMATCH)
    if matched and not reasons:
        return VerifierResult.PASS, ()
    return VerifierResult.FAIL, tuple(reasons)
