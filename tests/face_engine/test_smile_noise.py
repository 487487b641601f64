"""A smile on the mesh must clear the capture's own noise, not only the fixed 5 %, with the head still.

The mesh's mouth width jitters with the face: on a face at rest in three-quarter view (world A's ``t1_4``)
it moved by up to 4.7 % of the baseline over the baseline's own frames, and a print of that face, held up
to the camera, read two frames over 5 % wider and answered "smile" (issue 11: the print passed at 0.75).
And such a face widens its mouth as it turns toward the camera: a face swap of world B's ``p4`` "smiled"
at a yaw-ratio change of 0.14, inside the 68 points' still-head bound (0.15) but not the mesh's (0.06).
"""

from __future__ import annotations

import json

import pytest

from apps.face_engine.challenges import LIMITS_68, SMILE_WIDEN, smile_detected
from apps.face_engine.pipeline import Engine
from apps.face_engine.progress import limits
from apps.face_engine.state import CaptureData, MeasureRow
from tests.face_engine.worlds import FPS, full_set_spec, full_set_verdict

NEUTRAL = MeasureRow(t=0.0, yaw_ratio=0.0, pitch_ratio=0.0, eye_open=0.4, mouth_open=0.05, smile=1.0, eye_std=1.0,
                     eye_dark=1.0)  # fmt: skip


def _capture(*, mesh: bool, spread: float) -> CaptureData:
    return CaptureData(mode="active", challenges=["smile"], mesh=mesh, baseline=NEUTRAL, baseline_smile_spread=spread)


def _mouth(*widths: float) -> list[MeasureRow]:
    return [NEUTRAL._replace(t=i / FPS, smile=w) for i, w in enumerate(widths)]


@pytest.mark.parametrize(("mesh", "spread", "widen"), [(True, 0.01, SMILE_WIDEN), (True, 0.047, 1.0705),
                                                       (False, 0.047, SMILE_WIDEN)])  # fmt: skip
def test_the_smile_threshold_is_the_fixed_one_or_one_and_a_half_times_the_baselines_spread(
    mesh: bool, spread: float, widen: float
) -> None:
    assert limits(_capture(mesh=mesh, spread=spread)).smile_widen == pytest.approx(widen)


def test_a_mouth_widened_within_the_noise_is_no_smile_and_one_widened_beyond_it_is() -> None:
    noisy = limits(_capture(mesh=True, spread=0.047))
    assert not smile_detected(_mouth(1.0, 1.06, 1.065, 1.0), NEUTRAL, noisy)  # the print's 5.4-8.9 %
    assert smile_detected(_mouth(1.0, 1.08, 1.09, 1.0), NEUTRAL, noisy)
    quiet = limits(_capture(mesh=True, spread=0.005))
    assert smile_detected(_mouth(1.0, 1.06, 1.065, 1.0), NEUTRAL, quiet)


def test_a_mouth_that_widens_as_the_head_turns_is_no_smile_on_the_mesh() -> None:
    turning = [row._replace(yaw_ratio=0.07 + 0.02 * i) for i, row in enumerate(_mouth(1.08, 1.10, 1.11))]
    assert not smile_detected(turning, NEUTRAL, limits(_capture(mesh=True, spread=0.005)))
    assert smile_detected(turning, NEUTRAL, LIMITS_68)  # the 68 points' bound is unchanged


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "passes"),
    [
        ("a_print_t1_4_05", False),  # a print of a face in three-quarter view: passed on a smile read from noise
        ("b_face_swap_p4_23", False),  # a face in three-quarter view swapped: passed on a smile read from a turn
        ("a_live_t1_2_06", True),  # the live smile of worlds A and B that widened the mouth least (6.4 %)
    ],
)
def test_a_smile_on_the_mesh_in_worlds_a_and_b(mediapipe_engine: Engine, name: str, passes: bool) -> None:
    assert "smile" in full_set_spec(name).challenges
    verdict = full_set_verdict(mediapipe_engine, name)
    assert (verdict.verdict == "pass") is passes, (verdict.reasons, verdict.scores)
    assert verdict.challenge_outcomes["smile"] is passes


def test_a_state_saved_before_the_spread_was_kept_loads_with_the_fixed_threshold() -> None:
    saved = json.loads(_capture(mesh=True, spread=0.047).to_json())
    del saved["baseline_smile_spread"]  # as a process of the previous release wrote it (a rolling upgrade)
    loaded = CaptureData.from_json(json.dumps(saved))
    assert loaded.baseline_smile_spread == 0.0
    assert limits(loaded).smile_widen == SMILE_WIDEN
