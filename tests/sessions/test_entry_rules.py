"""Entry's verdict rules (docs/entry.md): config thresholds, age with a margin, dates of birth, minors, users."""

from __future__ import annotations

from datetime import date

import pytest

from apps.sessions.verdict_rules import (
    AGE_DOCUMENT_REQUIRED,
    AGE_VERIFICATION_FAILED,
    DATE_OF_BIRTH_MISMATCH,
    age_assessment,
    age_in_years,
    liveness_verdict,
    user_recognition_result,
    verifier_results,
)
from apps.verifications.enums import AgeDirection, AgeType, VerifierResult
from apps.verifications.session_config import AgeConfig, VerifierConfigs

PASS, FAIL = VerifierResult.PASS, VerifierResult.FAIL
OVER_18 = AgeConfig(type=AgeType.THRESHOLD_VERIFICATION, threshold=18)


def _live(confidence, reasons=(), engine="pass", passing=None, retry=None):
    return liveness_verdict(
        engine_verdict=engine,
        confidence=confidence,
        reasons=reasons,
        pass_threshold=passing,
        retry_threshold=retry,
        engine_pass=0.70,
        engine_retry=0.45,
    )


def test_without_thresholds_of_its_own_the_engines_verdict_stands():
    assert _live(0.3, engine="pass") == "pass"
    assert _live(0.9, engine="retry") == "retry"


def test_a_configs_thresholds_regrade_the_confidence():
    assert _live(0.72, passing=0.8) == "retry"
    assert _live(0.72, passing=0.8, retry=0.75) == "fail"
    assert _live(0.6, engine="retry", reasons=(), passing=0.55) == "pass"


def test_a_capture_the_engine_objected_to_never_passes_on_a_lower_threshold():
    assert _live(0.6, engine="retry", reasons=("timeout",), passing=0.55) == "retry"
    assert _live(0.6, engine="retry", reasons=("presentationAttack",), passing=0.55) == "retry"
    assert _live(0.0, engine="fail", reasons=("noFace",), passing=0.55) == "fail"


@pytest.mark.parametrize(
    ("estimate", "result", "reason"),
    [
        (30.0, PASS, None),
        (23.0, PASS, None),  # exactly threshold + margin
        (22.9, FAIL, AGE_DOCUMENT_REQUIRED),
        (18.0, FAIL, AGE_DOCUMENT_REQUIRED),  # on the threshold: never a pass on an estimate
        (13.1, FAIL, AGE_DOCUMENT_REQUIRED),
        (13.0, FAIL, AGE_VERIFICATION_FAILED),
        (None, FAIL, AGE_VERIFICATION_FAILED),
    ],
)
def test_an_estimate_within_the_margin_asks_for_a_document(estimate, result, reason):
    assessment = age_assessment(config=OVER_18, estimated_age=estimate, margin=5)
    assert (assessment.result, assessment.reason) == (result, reason)


def test_below_uses_the_margin_on_the_other_side():
    below = AgeConfig(type=AgeType.THRESHOLD_VERIFICATION, threshold=18, direction=AgeDirection.BELOW)
    assert age_assessment(config=below, estimated_age=12.0, margin=5).result == PASS
    assert age_assessment(config=below, estimated_age=15.0, margin=5).reason == AGE_DOCUMENT_REQUIRED
    assert age_assessment(config=below, estimated_age=23.0, margin=5).reason == AGE_VERIFICATION_FAILED


def test_a_stored_date_of_birth_takes_precedence_and_a_far_estimate_is_a_risk_signal():
    teen = age_assessment(config=OVER_18, estimated_age=35.0, margin=5, date_of_birth_age=16.5)
    assert (teen.result, teen.source, teen.risk_signals) == (FAIL, "dateOfBirth", (DATE_OF_BIRTH_MISMATCH,))
    adult = age_assessment(config=OVER_18, estimated_age=17.0, margin=5, date_of_birth_age=18.01)
    assert (adult.result, adult.risk_signals) == (PASS, ())  # exact age: no margin needed


def test_under_13_is_a_minor_and_keeps_no_face_data():
    config = AgeConfig(type=AgeType.CALCULATION_ONLY)
    assert age_assessment(config=config, estimated_age=11.0, margin=5).minor
    assert not age_assessment(config=config, estimated_age=13.0, margin=5).minor
    results = verifier_results(
        verifiers=VerifierConfigs(age=config),
        verdict="pass",
        reasons=(),
        estimated_age=11.0,
        estimated_gender=None,
        total_face_count=1,
        age_margin=5,
    )
    assert results.minor and not results.recognition_allowed and results.age == PASS


def test_age_in_years_counts_birthdays_and_leap_days():
    assert age_in_years(date(2000, 6, 1), date(2018, 6, 1)) == 18.0
    assert 17.99 < age_in_years(date(2000, 6, 2), date(2018, 6, 1)) < 18.0
    assert age_in_years(date(2000, 2, 29), date(2018, 3, 1)) == 18.0


def test_a_leap_day_birthday_counts_on_the_day_in_a_leap_year():
    over16 = AgeConfig(type=AgeType.THRESHOLD_VERIFICATION, threshold=16)
    born = date(2008, 2, 29)

    def result(today: date) -> VerifierResult:
        age = age_in_years(born, today)
        return age_assessment(config=over16, estimated_age=None, margin=5, date_of_birth_age=age).result

    assert age_in_years(born, date(2024, 2, 29)) == 16.0
    assert result(date(2024, 2, 29)) == PASS and result(date(2024, 2, 28)) == FAIL
    # In a common year the birthday is 1 March.
    assert result(date(2025, 3, 1)) == PASS and age_in_years(born, date(2025, 3, 1)) == 17.0
    assert age_in_years(born, date(2025, 2, 28)) < 17.0


def test_identify_passes_only_on_one_match_and_recovery_also_needs_the_date_of_birth():
    assert user_recognition_result(recovery=False, matched=True, reason=None, date_of_birth_agrees=None) == (PASS, ())
    assert user_recognition_result(
        recovery=False, matched=False, reason="ambiguousUser", date_of_birth_agrees=None
    ) == (
        FAIL,
        ("ambiguousUser",),
    )
    # Identify reports a date-of-birth disagreement as a risk signal only (elsewhere), it does not fail.
    assert user_recognition_result(recovery=False, matched=True, reason=None, date_of_birth_agrees=False)[0] == PASS
    assert user_recognition_result(recovery=True, matched=True, reason=None, date_of_birth_agrees=False) == (
        FAIL,
        (DATE_OF_BIRTH_MISMATCH,),
    )
