"""Age-threshold decisions that respect the estimate's error margin."""

from __future__ import annotations

from typing import Literal

from .types import AgeGender


def age_threshold_check(*, age_gender: AgeGender, threshold: float) -> Literal["Above", "Below", "retry"]:
    """``Above``/``Below`` the threshold in years, or ``retry`` when the estimate is within its margin.

    An estimate of 19 with a 5-year margin says nothing about "over 18", so it
    must not turn into a hard yes or no.
    """
    margin = age_gender.age_margin
    if age_gender.estimated_age >= threshold + margin:
        return "Above"
    if age_gender.estimated_age < threshold - margin:
        return "Below"
    return "retry"
