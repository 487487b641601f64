"""The verdict rules as pure functions: no database, no engine, milliseconds."""

from __future__ import annotations

import pytest

from apps.sessions.verdict_rules import (
    AGE_VERIFICATION_FAILED,
    ATTEMPTS_EXHAUSTED,
    MULTIPLE_FACES,
    VerifierResults,
    age_result,
    session_outcome,
    verifier_results,
)
from apps.verifications.enums import AgeDirection, AgeType, GenderType, LivenessType, VerifierResult
from apps.verifications.session_config import (
    AgeConfig,
    CommonSettings,
    GenderConfig,
    LivenessConfig,
    SessionConfig,
    VerifierConfigs,
)

PASS, FAIL, NOT_EXECUTED = VerifierResult.PASS, VerifierResult.FAIL, VerifierResult.NOT_EXECUTED


def _results(verifiers: VerifierConfigs | None = None, **kwargs) -> VerifierResults:
    values = {"verdict": "pass", "reasons": (), "estimated_age": 30.0, "estimated_gender": "Female"}
    values["total_face_count"] = 1
    values.update(kwargs)
    return verifier_results(verifiers=verifiers or VerifierConfigs(), **values)


def _outcome(results: VerifierResults, face_recognition=NOT_EXECUTED, recognition_reasons=()):
    return session_outcome(results=results, face_recognition=face_recognition, recognition_reasons=recognition_reasons)


def test_a_live_person_passes_and_may_be_recognised():
    results = _results()
    assert (results.liveness, results.age, results.gender) == (PASS, NOT_EXECUTED, NOT_EXECUTED)
    assert results.recognition_allowed
    outcome = _outcome(results)
    assert (outcome.verification_result, outcome.failed_reasons, outcome.failed) == (PASS, (), False)


def test_a_failed_liveness_fails_the_session_with_the_engines_reasons():
    results = _results(verdict="fail", reasons=("presentationAttack",))
    assert results.liveness == FAIL and not results.recognition_allowed
    assert _outcome(results).failed_reasons == ("presentationAttack",)


def test_a_retry_with_no_attempt_left_fails_as_attempts_exhausted():
    outcome = _outcome(_results(verdict="retry", reasons=("timeout",)))
    assert outcome.verification_result == FAIL
    assert outcome.failed_reasons == ("timeout", ATTEMPTS_EXHAUSTED)


def test_with_liveness_disabled_the_engines_verdict_does_not_fail_the_session():
    verifiers = VerifierConfigs(liveness=LivenessConfig(type=LivenessType.DISABLED))
    results = _results(verifiers, verdict="fail", reasons=("presentationAttack",))
    assert results.liveness == NOT_EXECUTED
    assert not results.recognition_allowed  # only a live face is ever stored
    assert _outcome(results).verification_result == PASS


@pytest.mark.parametrize(
    ("direction", "age", "expected"),
    [
        (AgeDirection.ABOVE, 18.0, PASS),  # at the threshold counts as above
        (AgeDirection.ABOVE, 17.9, FAIL),
        (AgeDirection.BELOW, 17.9, PASS),
        (AgeDirection.BELOW, 18.0, FAIL),  # below means strictly under
    ],
)
def test_an_age_threshold_is_checked_in_its_direction(direction, age, expected):
    config = AgeConfig(type=AgeType.THRESHOLD_VERIFICATION, threshold=18, direction=direction)
    assert age_result(config, age) == expected


def test_age_is_not_executed_when_disabled_and_passes_whatever_it_is_when_only_calculated():
    assert age_result(AgeConfig(), None) == NOT_EXECUTED
    assert age_result(AgeConfig(type=AgeType.CALCULATION_ONLY), 3.0) == PASS


def test_a_failed_age_check_fails_the_session_and_keeps_the_face_out_of_collections():
    verifiers = VerifierConfigs(age=AgeConfig(type=AgeType.THRESHOLD_VERIFICATION, threshold=21))
    results = _results(verifiers, estimated_age=19.5)
    assert results.age == FAIL and results.liveness == PASS
    assert not results.recognition_allowed
    assert _outcome(results).failed_reasons == (AGE_VERIFICATION_FAILED,)


def test_an_age_that_could_not_be_estimated_fails_an_enabled_age_check():
    results = _results(VerifierConfigs(age=AgeConfig(type=AgeType.CALCULATION_ONLY)), estimated_age=None)
    assert results.age == FAIL and AGE_VERIFICATION_FAILED in results.reasons


def test_a_missing_gender_fails_the_gender_verifier_but_not_the_session():
    verifiers = VerifierConfigs(gender=GenderConfig(type=GenderType.CALCULATION_ONLY))
    results = _results(verifiers, estimated_gender=None)
    assert results.gender == FAIL
    assert _outcome(results).verification_result == PASS


def test_several_faces_fail_the_session_only_when_the_config_asks_for_it():
    strict = VerifierConfigs(common=CommonSettings(fail_on_multiple_faces=True))
    crowded = _results(strict, total_face_count=2)
    assert crowded.reasons == (MULTIPLE_FACES,) and not crowded.recognition_allowed
    assert _outcome(crowded).failed_reasons == (MULTIPLE_FACES,)
    assert _outcome(_results(total_face_count=2)).verification_result == PASS


def test_the_engines_own_multiple_faces_reason_is_not_repeated():
    strict = VerifierConfigs(common=CommonSettings(fail_on_multiple_faces=True))
    results = _results(strict, verdict="fail", reasons=(MULTIPLE_FACES,), total_face_count=3)
    assert results.reasons == (MULTIPLE_FACES,)


def test_a_failed_face_recognition_fails_the_session_with_its_reasons_once():
    results = _results(reasons=())
    outcome = _outcome(results, face_recognition=FAIL, recognition_reasons=("duplicateFace", "duplicateFace"))
    assert outcome.verification_result == FAIL and outcome.failed_reasons == ("duplicateFace",)


def test_a_passed_face_recognition_keeps_the_session_passed():
    assert _outcome(_results(), face_recognition=PASS).verification_result == PASS


def test_the_rules_read_a_stored_config_with_its_defaults():
    stored = {"verifierConfigs": {"age": {"type": "ThresholdVerification", "threshold": 65, "direction": "Below"}}}
    verifiers = SessionConfig.from_json(stored).verifiers
    assert verifiers.liveness.enabled  # no liveness block: liveness is verified, as sessions always read it
    assert _results(verifiers, estimated_age=70.0).age == FAIL
    assert _results(verifiers, estimated_age=64.0).age == PASS
