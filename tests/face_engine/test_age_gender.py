"""Age and gender from the CC0 models, and the age-threshold check that answers retry inside the margin."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from apps.face_engine.attributes import age_threshold_check
from apps.face_engine.types import AgeGender
from tests.face_engine import synthetic

# Who is who in insightface's t1.jpg, left to right (checked by eye).
T1_GENDERS = ("Female", "Female", "Male", "Male", "Male", "Female")


@pytest.fixture(scope="module")
def t1_estimates(each_engine) -> list:
    bgr = cv2.imread(str(synthetic.t1_path()))
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    boxes = sorted(each_engine._detect(gray), key=lambda b: b[0])
    assert len(boxes) == 6
    return [each_engine.backend.age_gender(bgr, each_engine.backend.landmarks(gray, b)) for b in boxes]


def test_it_estimates_an_adult_woman_for_the_astronaut(each_engine) -> None:
    from skimage import data

    bgr = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    est = each_engine.backend.age_gender(bgr, each_engine.backend.landmarks(gray, each_engine._detect(gray)[0]))
    assert est.gender == "Female" and est.gender_confidence > 0.8
    assert 20 <= est.age <= 55
    assert 0.0 <= est.age_confidence <= 1.0


def test_confident_gender_estimates_are_right_on_the_six_people_of_t1(t1_estimates) -> None:
    pairs = zip(t1_estimates, T1_GENDERS, strict=True)
    confident = [(e.gender, truth) for e, truth in pairs if e.gender_confidence >= 0.9]
    assert len(confident) >= 5
    assert all(guess == truth for guess, truth in confident)


def test_ages_are_floats_of_plausible_adults_with_their_margin(t1_estimates) -> None:
    assert all(isinstance(e.age, float) and 15 <= e.age <= 60 for e in t1_estimates)
    assert all(e.age_margin == 5.0 for e in t1_estimates)


def _ag(age: float, margin: float = 5.0) -> AgeGender:
    return AgeGender(
        estimated_age=age, age_confidence=0.8, estimated_gender="Female", gender_confidence=0.9, age_margin=margin
    )


@pytest.mark.parametrize(
    ("age", "threshold", "answer"),
    [(30.0, 18, "Above"), (23.0, 18, "Above"), (22.9, 18, "retry"), (18.0, 18, "retry"), (13.1, 18, "retry"),
     (12.9, 18, "Below"), (8.0, 18, "Below")],
)  # fmt: skip
def test_an_age_threshold_answers_retry_within_the_models_error_margin(age: float, threshold: int, answer: str) -> None:
    assert age_threshold_check(age_gender=_ag(age), threshold=threshold) == answer


def test_a_wider_margin_widens_the_retry_band() -> None:
    assert age_threshold_check(age_gender=_ag(25.0, margin=5.0), threshold=18) == "Above"
    assert age_threshold_check(age_gender=_ag(25.0, margin=8.0), threshold=18) == "retry"


def test_age_confidence_is_the_probability_mass_within_the_margin(each_engine) -> None:
    bgr = cv2.cvtColor(synthetic.portrait("t1_0").image, cv2.COLOR_RGB2BGR)
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    pts = each_engine.backend.landmarks(gray, each_engine._detect(gray)[0])
    sharp = each_engine.backend.age_gender(bgr, pts)
    noisy = np.clip(bgr + np.random.default_rng(0).normal(0, 40, bgr.shape), 0, 255).astype(np.uint8)
    degraded = each_engine.backend.age_gender(noisy, pts)
    assert sharp.age_confidence > 0.5
    assert degraded.age_confidence != sharp.age_confidence
