"""How measures become a verdict: thresholds, timeouts, faces, state size."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from apps.face_engine.pipeline import Engine
from apps.face_engine.types import CapturePlan, EngineSettings
from tests.face_engine import synthetic
from tests.face_engine.synth_capture import live_clip, passive_clip


def _run(engine: Engine, jpegs, plan: CapturePlan, fps: float = 15.0):
    state = engine.new_capture(plan)
    result = None
    for i, jpeg in enumerate(jpegs):
        result = engine.analyze_frame(state, jpeg, i / fps)
        state = result.state
        if result.capture_complete:
            break
    return result, engine.decide(state)


def test_the_pass_and_retry_thresholds_are_settings(each_engine) -> None:
    clip = live_clip("astronaut", ("blink",))
    plan = CapturePlan(mode="active", challenges=("blink",))
    _, default = _run(each_engine, clip, plan)
    strict = Engine(each_engine.backend, EngineSettings(engine="dlib", pass_threshold=0.99, retry_threshold=0.5))
    _, strict_verdict = _run(strict, clip, plan)
    assert default.verdict == "pass"
    assert strict_verdict.confidence == default.confidence < 0.99
    assert strict_verdict.verdict == "retry"


@pytest.mark.slow
def test_a_challenge_not_done_in_time_is_reprompted_twice_then_fails_by_name(each_engine) -> None:
    neutral = live_clip("astronaut", ("blink",))[:12]
    frames = list(itertools.islice(itertools.cycle(neutral), 450))  # 30 s of someone not moving at all
    result, verdict = _run(each_engine, frames, CapturePlan(mode="active", challenges=("smile", "blink")))
    assert result.capture_complete  # the engine stopped on its own after the third timeout
    assert 3 * 7.0 < result.state.t_last < 25.0 and result.reprompts == 2
    assert verdict.verdict == "retry"  # no evidence of an attack either: try again
    assert verdict.reasons == ("challengeFailed:smile", "challengeFailed:turn_left", "challengeFailed:turn_right")
    assert verdict.challenge_outcomes == {"smile": False, "turn_left": False, "turn_right": False, "blink": False}


def test_a_capture_cut_short_is_a_timeout_and_never_a_pass(each_engine) -> None:
    clip = live_clip("astronaut", ("blink",))[:10]
    _, verdict = _run(each_engine, clip, CapturePlan(mode="passive"))
    assert verdict.verdict != "pass"
    assert "timeout" in verdict.reasons


@pytest.mark.slow
def test_no_face_at_all_fails_as_no_face(each_engine) -> None:
    blank = synthetic.encode_jpeg(np.full((480, 640, 3), 120, np.uint8))
    _, verdict = _run(each_engine, [blank] * 20, CapturePlan(mode="passive"))
    assert verdict.verdict == "fail"
    assert verdict.reasons[0] == "noFace"
    assert verdict.total_face_count == 0 and verdict.confidence == 0.0


@pytest.mark.slow
def test_several_people_fail_unless_the_config_tracks_the_dominant_face(each_engine) -> None:
    t1 = synthetic.t1_path().read_bytes()
    frames = [t1] * 25
    _, strict = _run(each_engine, frames, CapturePlan(mode="passive", fail_on_multiple_faces=True))
    _, lenient = _run(each_engine, frames, CapturePlan(mode="passive", fail_on_multiple_faces=False))
    assert "multipleFaces" in strict.reasons and strict.verdict == "fail"
    assert strict.total_face_count == 6
    assert "multipleFaces" not in lenient.reasons


def test_the_capture_state_stays_small_enough_to_store_per_frame(each_engine) -> None:
    state = each_engine.new_capture(CapturePlan(mode="active", challenges=("blink",)))
    for i, jpeg in enumerate(live_clip("astronaut", ("blink",))):
        state = each_engine.analyze_frame(state, jpeg, i / 15).state
    text = state.to_json()
    assert len(text) < 250_000
    again = each_engine.load_capture(text)
    assert again.to_json() == text
    assert again.pts == state.pts and len(state.pts) > 10  # the packed landmark sets come back as the same floats


def test_a_state_written_before_the_landmark_sets_were_packed_still_loads(each_engine) -> None:
    import json

    state = each_engine.new_capture(CapturePlan(mode="passive"))
    for i, jpeg in enumerate(passive_clip("astronaut")[:20]):
        state = each_engine.analyze_frame(state, jpeg, i / 15).state
    old = json.loads(state.to_json())
    assert isinstance(old["pts"], dict)  # one base64 string of tenths of a pixel
    old["pts"], old["v"] = state.pts, 2  # version 2 wrote each set as a JSON array of numbers
    loaded = each_engine.load_capture(json.dumps(old))
    assert loaded.pts == state.pts and loaded.to_json() == state.to_json()


def test_a_corrupt_or_foreign_state_is_refused_with_a_typed_error(each_engine) -> None:
    import json

    import pytest

    from apps.face_engine.state import STATE_VERSION
    from apps.face_engine.types import FrameError

    state = each_engine.new_capture(CapturePlan(mode="active", challenges=("blink",)))
    for i, jpeg in enumerate(live_clip("astronaut", ("blink",))[:3]):
        state = each_engine.analyze_frame(state, jpeg, i / 15).state
    good = state.to_json()
    packed = json.loads(good)["pts"]["tenths"]
    bad_points = [good.replace(packed, packed[:-4]), good.replace(packed, "not base64!")]
    old = f'"v":{STATE_VERSION}'
    for bad in ("", "[]", "{}", good.replace('"blink"', '"wink"'), good.replace(old, '"v":99'), "\x00{", *bad_points):
        with pytest.raises(FrameError) as err:
            each_engine.load_capture(bad)
        assert err.value.code == "badState"


def test_a_state_a_later_version_saved_with_a_field_this_one_does_not_know_still_loads(each_engine) -> None:
    """A rolling upgrade: a newer process saved the state with a field it added, this one reads it. The field is
    dropped and the capture goes on (it was refused as badState, ending the capture, when a field was added)."""
    import json

    state = each_engine.new_capture(CapturePlan(mode="active", challenges=("blink",)))
    for i, jpeg in enumerate(live_clip("astronaut", ("blink",))[:6]):
        state = each_engine.analyze_frame(state, jpeg, i / 15).state
    newer = json.loads(state.to_json())
    newer["added_later"] = [1.0, 2.0]
    loaded = each_engine.load_capture(json.dumps(newer))
    assert loaded.to_json() == state.to_json()


def test_a_blink_is_the_eyes_changing_look_with_the_head_still_not_a_jittery_eye_ratio() -> None:
    from apps.face_engine.challenges import blink_detected
    from apps.face_engine.state import MeasureRow

    base = MeasureRow(0.0, 0.0, 0.35, 0.30, 0.10, 1.0, eye_std=0.40, eye_dark=0.30)
    still = base
    ratio_jitter = base._replace(t=0.1, eye_open=0.18, eye_std=0.41)  # eye ratio -40%, same look: a tilted photo
    lids_down = base._replace(t=0.2, yaw_ratio=0.01, eye_open=0.28, eye_std=0.31, eye_dark=0.41)  # contrast down
    lids_down_turned = lids_down._replace(yaw_ratio=0.30)
    assert not blink_detected([still, ratio_jitter, still, ratio_jitter, still], base)
    assert blink_detected([still, lids_down, still], base)
    assert not blink_detected([still, lids_down], base)  # closed but never reopened
    assert not blink_detected([still, lids_down_turned, still], base)


@pytest.mark.slow
def test_a_person_who_sits_down_late_is_not_counted_absent_for_the_empty_room_before(each_engine) -> None:
    empty = synthetic.encode_jpeg(np.full((480, 640, 3), 120, np.uint8))
    result, verdict = _run(each_engine, [empty] * 60 + list(passive_clip("astronaut")), CapturePlan(mode="passive"))
    assert result.capture_complete
    assert verdict.scores["facePresence"] == 1.0
    assert verdict.verdict == "pass" and verdict.reasons == (), (verdict.reasons, dict(verdict.scores))
