"""A blink whose upper lid slides down over an eye that is narrow at rest is seen with the mesh (issue 11).

World B draws its blinks by painting the lids closed in skin colour; a real upper lid slides down, carrying
the skin above it. Rendered that way (``WORLD_B_BLINK=slide``, ``world_b/paint.slide_blink``), the mesh's lids
followed the narrow eyes of world B's ``p1``, ``p2`` and ``p3`` only part of the way (70-94 % of open, the eye
regions' look 7-21 % off, on two or three frames): under every fixed bound, so 23 of world B's 63 live clips
were refused, most for a blink not seen. A closure now also counts when both the lids and the look stand out
of the capture's own noise on two frames in a row (``challenges.MESH_NOISE_BLINK_*``).

On ``p1`` the mesh's lids sometimes did not follow the sliding lid at all (90-104 % of open) while the eye
regions' look was 18-21 % off, 8 to 17 times as far as over the baseline's own frames: the look alone now
closes the eyes when it stands that far out of the noise on two frames in a row (``MESH_LOOK_BLINK_FACTOR``).
"""

from __future__ import annotations

import json

import pytest

from apps.face_engine.challenges import (
    EYE_LOOK_CLOSED,
    LIMITS_68,
    MESH_LOOK_BLINK_FACTOR,
    MESH_NOISE_BLINK_DROP,
    MESH_NOISE_BLINK_FACTOR,
    MESH_NOISE_BLINK_LOOK,
    eyes_closed,
)
from apps.face_engine.pipeline import Engine
from apps.face_engine.progress import limits
from apps.face_engine.state import CaptureData, MeasureRow
from tests.face_engine.worlds import full_set_live_passes

OPEN = MeasureRow(t=0.0, yaw_ratio=0.0, pitch_ratio=0.0, eye_open=0.5, mouth_open=0.05, smile=1.0, eye_std=1.0,
                  eye_dark=1.0)  # fmt: skip
# A narrow eye's slid lid as the mesh read it on world B's p3: lids at 88 % of open, the look 8 % darker.
SLID = OPEN._replace(eye_open=0.44, eye_dark=1.08)
# A slid lid the mesh's lids did not follow, as on world B's p1: the lids fully open, the look 19 % less contrast.
UNFOLLOWED = OPEN._replace(eye_std=0.81)


def _capture(*, mesh: bool = True, eye_spread: float = 0.0, look_spread: float = 0.0) -> CaptureData:
    return CaptureData(mode="passive", challenges=[], mesh=mesh, baseline=OPEN, baseline_eye_spread=eye_spread,
                       baseline_look_spread=look_spread)  # fmt: skip


def test_two_frames_out_of_a_quiet_captures_noise_close_the_eyes() -> None:
    lim = limits(_capture(eye_spread=0.02, look_spread=0.01))
    assert lim.noise_blink == (MESH_NOISE_BLINK_DROP, MESH_NOISE_BLINK_LOOK)  # the floors: the noise is under them
    assert eyes_closed(SLID, OPEN, SLID._replace(t=-0.07), lim)
    assert not eyes_closed(SLID, OPEN, OPEN, lim)  # one frame is not enough
    assert not eyes_closed(SLID, OPEN, None, lim)


def test_a_capture_whose_own_frames_stray_more_needs_a_deeper_closure() -> None:
    # A screen's sliding glare or a print's jitter: the baseline's own frames strayed by 5 % in the look.
    lim = limits(_capture(eye_spread=0.02, look_spread=0.05))
    assert lim.noise_blink == pytest.approx((MESH_NOISE_BLINK_DROP, MESH_NOISE_BLINK_FACTOR * 0.05))
    assert not eyes_closed(SLID, OPEN, SLID._replace(t=-0.07), lim)
    darker = SLID._replace(eye_dark=1.0 + MESH_NOISE_BLINK_FACTOR * 0.05 + 0.01)
    assert eyes_closed(darker, OPEN, darker._replace(t=-0.07), lim)


def test_the_rule_is_the_meshs_only_and_not_for_a_face_at_rest_in_three_quarter_view() -> None:
    assert LIMITS_68.noise_blink is None
    assert not eyes_closed(SLID, OPEN, SLID._replace(t=-0.07), limits(_capture(mesh=False)))
    turned = _capture()
    turned.baseline = OPEN._replace(yaw_ratio=0.55)
    assert not eyes_closed(
        SLID._replace(yaw_ratio=0.55), turned.baseline, SLID._replace(t=-0.07, yaw_ratio=0.55), limits(turned)
    )


def test_a_state_saved_before_the_eye_spreads_loads_with_the_floors() -> None:
    saved = json.loads(_capture(eye_spread=0.03, look_spread=0.04).to_json())
    del saved["baseline_eye_spread"], saved["baseline_look_spread"]  # as the previous release wrote it
    loaded = CaptureData.from_json(json.dumps(saved))
    assert limits(loaded).noise_blink == (MESH_NOISE_BLINK_DROP, MESH_NOISE_BLINK_LOOK)


def test_the_look_alone_closes_the_eyes_when_it_stands_far_out_of_a_quiet_captures_noise() -> None:
    lim = limits(_capture(eye_spread=0.01, look_spread=0.016))  # p1's baseline: the look strayed by 1.6 %
    assert lim.look_blink == EYE_LOOK_CLOSED  # 7 x 1.6 % is under the floor
    assert eyes_closed(UNFOLLOWED, OPEN, UNFOLLOWED._replace(t=-0.07), lim)
    assert not eyes_closed(UNFOLLOWED, OPEN, OPEN, lim)  # one frame is not enough
    assert not eyes_closed(OPEN._replace(eye_std=0.86), OPEN, OPEN._replace(t=-0.07, eye_std=0.86), lim)  # 14 %


def test_the_look_alone_must_clear_seven_times_what_the_baseline_strayed() -> None:
    # A screen's glare: its baseline's look strayed by 4 %, so 19 % is no closure; 29 % is.
    lim = limits(_capture(eye_spread=0.01, look_spread=0.04))
    assert lim.look_blink == pytest.approx(MESH_LOOK_BLINK_FACTOR * 0.04)
    assert not eyes_closed(UNFOLLOWED, OPEN, UNFOLLOWED._replace(t=-0.07), lim)
    glare = OPEN._replace(eye_std=0.71)
    assert eyes_closed(glare, OPEN, glare._replace(t=-0.07), lim)


def test_the_look_alone_is_off_for_the_68_points_a_three_quarter_view_and_an_unknown_spread() -> None:
    assert LIMITS_68.look_blink is None
    assert limits(_capture(mesh=False, look_spread=0.016)).look_blink is None
    assert limits(_capture(look_spread=0.0)).look_blink is None  # a state saved before the spread was kept
    assert not eyes_closed(UNFOLLOWED, OPEN, UNFOLLOWED._replace(t=-0.07), limits(_capture(look_spread=0.0)))
    turned = _capture(look_spread=0.016)
    turned.baseline = OPEN._replace(yaw_ratio=0.55)
    row = UNFOLLOWED._replace(yaw_ratio=0.55)
    assert not eyes_closed(row, turned.baseline, row._replace(t=-0.07), limits(turned))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "challenges"),
    [
        ("b_live_p3_00", ()),  # a passive hold: was retry / insufficientMotion (lids at 86-88 %, look 8 %)
        ("b_live_p2_05", ("blink", "nod", "smile")),  # was retry / challengeFailed:blink
        # The lids not followed at all (below): both were retry on the rule above alone.
        ("b_live_p1_01", ()),  # was retry / insufficientMotion (lids at 100-104 %, look 19 % off)
        ("b_live_p1_07", ("nod", "blink")),  # was retry / challengeFailed:blink
    ],
)
def test_a_narrow_eyed_blink_whose_lid_slides_down_passes(
    mediapipe_engine: Engine, monkeypatch: pytest.MonkeyPatch, name: str, challenges: tuple[str, ...]
) -> None:
    monkeypatch.setenv("WORLD_B_BLINK", "slide")
    full_set_live_passes(mediapipe_engine, name, challenges)
