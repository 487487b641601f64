"""The verdict rules: how the engine's verdict and the session's config become the stored results.

Pure functions over values (no database, no engine), in two steps because face
recognition, which needs the database, sits between them:

1. ``verifier_results``: liveness, age and gender results, the failure reasons so
   far, and whether the face may be recognised and kept;
2. ``session_outcome``: with face recognition's result, the session's overall
   result and its failure reasons.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from apps.verifications.enums import AgeDirection, AgeType, VerifierResult
from apps.verifications.session_config import AgeConfig, GenderConfig, VerifierConfigs

# Failure reasons these rules add to the engine's own.
ATTEMPTS_EXHAUSTED = "attemptsExhausted"
AGE_VERIFICATION_FAILED = "ageVerificationFailed"
MULTIPLE_FACES = "multipleFaces"
# Reasons that keep a face out of every collection even when the person is live.
_RECOGNITION_VETOES = (MULTIPLE_FACES, AGE_VERIFICATION_FAILED)


@dataclass(frozen=True)
class VerifierResults:
    live: bool  # the engine's verdict was "pass"
    liveness: VerifierResult
    age: VerifierResult
    gender: VerifierResult
    reasons: tuple[str, ...]
    recognition_allowed: bool  # live and not vetoed: the face may be recognised, or kept for compare


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
) -> VerifierResults:
    """Results of the final attempt: ``verdict`` is the engine's pass/fail/retry (a retry here has no attempt left)."""
    found = [str(reason) for reason in reasons]
    live = verdict == "pass"
    if verdict == "retry":
        found.append(ATTEMPTS_EXHAUSTED)
    age = age_result(verifiers.age, estimated_age)
    if age == VerifierResult.FAIL:
        found.append(AGE_VERIFICATION_FAILED)
    crowded = verifiers.common.fail_on_multiple_faces and total_face_count > 1
    if crowded and MULTIPLE_FACES not in found:
        found.append(MULTIPLE_FACES)
    if verifiers.liveness.enabled:
        liveness = VerifierResult.PASS if live else VerifierResult.FAIL
    else:
        liveness = VerifierResult.NOT_EXECUTED
    return VerifierResults(
        live=live,
        liveness=liveness,
        age=age,
        gender=gender_result(verifiers.gender, estimated_gender),
        reasons=tuple(found),
        recognition_allowed=live and not any(reason in _RECOGNITION_VETOES for reason in found),
    )


def session_outcome(
    *, results: VerifierResults, face_recognition: VerifierResult, recognition_reasons: Sequence[str] = ()
) -> SessionOutcome:
    """The session fails on failed liveness (when enabled), age, face recognition, or several faces."""
    reasons = [*results.reasons, *recognition_reasons]
    failed = (
        results.liveness == VerifierResult.FAIL
        or results.age == VerifierResult.FAIL
        or face_recognition == VerifierResult.FAIL
        or MULTIPLE_FACES in reasons
    )
    if not failed:
        return SessionOutcome(verification_result=VerifierResult.PASS, failed_reasons=())
    return SessionOutcome(verification_result=VerifierResult.FAIL, failed_reasons=tuple(dict.fromkeys(reasons)))
