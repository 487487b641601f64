"""A challenge not answered in time is asked again as a fresh one (issue 11, item 4), and analysing the same
frames again gives the same verdict: the clips are rendered from real face photos and run through the public
contract, as the session flow does."""

from __future__ import annotations

import pytest

from apps.face_engine.challenges import CHALLENGE_TIMEOUT_S
from apps.face_engine.types import CapturePlan, FaceEngine, Verdict
from tests.face_engine import synthetic
from tests.face_engine.synth_capture import Capture, run_capture, run_prompted

pytestmark = pytest.mark.slow


def _asked(capture: Capture) -> list[tuple[str, int]]:
    """Each prompt the engine showed, in order, with the re-prompt count it came with."""
    shown = [(r.current_challenge, r.reprompts) for r in capture.results if r.current_challenge]
    return list(dict.fromkeys(shown))


def _same(a: Verdict, b: Verdict) -> None:
    assert (a.verdict, a.confidence, a.reasons) == (b.verdict, b.confidence, b.reasons)
    assert dict(a.scores) == dict(b.scores) and dict(a.challenge_outcomes) == dict(b.challenge_outcomes)
    assert a.total_face_count == b.total_face_count and a.embedding == b.embedding


def test_a_missed_challenge_is_replaced_by_a_fresh_one_and_the_capture_can_pass(each_engine: FaceEngine) -> None:
    actor = synthetic.FaceActor("astronaut", seed=21)
    capture = run_prompted(each_engine, actor, ("smile", "blink"), ignore={"smile"})
    # No reserve in the plan: the first challenge not in it (CHALLENGES' order) replaced the missed smile.
    assert _asked(capture) == [("smile", 0), ("turn_left", 1), ("blink", 1)]
    replaced = next(i for i, r in enumerate(capture.results) if r.reprompts == 1)
    assert replaced / actor.fps > CHALLENGE_TIMEOUT_S  # only once the smile's time had run out
    verdict = capture.verdict
    assert verdict.verdict == "pass", (verdict.reasons, dict(verdict.scores))
    assert verdict.reasons == ()
    assert dict(verdict.challenge_outcomes) == {"smile": False, "turn_left": True, "blink": True}
    assert capture.results[-1].challenges_done == 2 and capture.results[-1].progress == 1.0


def test_a_challenge_still_missed_after_two_reprompts_ends_the_capture_as_a_retry(each_engine: FaceEngine) -> None:
    actor = synthetic.FaceActor("astronaut", seed=4)
    plan = ("nod", "blink")
    capture = run_prompted(each_engine, actor, plan, ignore=set(plan) | {"turn_left", "turn_right"}, max_s=40)
    assert _asked(capture) == [("nod", 0), ("turn_left", 1), ("turn_right", 2)]
    assert capture.results[-1].capture_complete  # the engine stopped on its own after the third miss
    verdict = capture.verdict
    # Someone who did not move is no evidence of an attack: the user may try again, told what to do.
    assert verdict.verdict == "retry", (verdict.reasons, dict(verdict.scores))
    assert verdict.reasons == ("challengeFailed:nod", "challengeFailed:turn_left", "challengeFailed:turn_right")
    assert "presentationAttack" not in verdict.reasons


def test_the_plans_reserve_decides_the_reprompt(engine: FaceEngine) -> None:
    frames = run_prompted(engine, synthetic.FaceActor("astronaut", seed=21), ("smile",), ignore={"smile"}).frames
    state = engine.new_capture(CapturePlan(mode="active", challenges=("smile",), reprompt_challenges=("nod",)))
    shown = []
    for i, jpeg in enumerate(frames[:150]):
        result = engine.analyze_frame(state, jpeg, i / 15)
        state = result.state
        shown.append(result.current_challenge)
    assert list(dict.fromkeys(c for c in shown if c)) == ["smile", "nod"]
    with pytest.raises(ValueError, match="Unknown challenge"):
        engine.new_capture(CapturePlan(mode="active", challenges=("smile",), reprompt_challenges=("wink",)))  # type: ignore[arg-type]


def test_the_same_frames_analysed_again_give_the_same_verdict(each_engine: FaceEngine) -> None:
    """Fresh state each time, the state moved between "workers" at different rates: nothing in the analysis
    reads a clock or a random source, so the re-prompts, the outcomes, the scores and the reasons repeat."""
    plan = ("mouth_open", "turn_right")
    first = run_prompted(each_engine, synthetic.FaceActor("t1_2", seed=8), plan, ignore={"mouth_open"})
    assert first.results[-1].reprompts == 1
    again = [
        run_capture(each_engine, first.frames, mode="active", challenges=plan, reload_every=every) for every in (0, 3)
    ]
    for capture in again:
        _same(capture.verdict, first.verdict)
        assert [(r.current_challenge, r.reprompts, r.progress, r.feedback) for r in capture.results] == [
            (r.current_challenge, r.reprompts, r.progress, r.feedback) for r in first.results
        ]
    passive = synthetic.passive_sequence("t1_5", 4.0, fps=15, seed=2)
    jpegs = [synthetic.encode_jpeg(f, 88) for f in passive]
    one, two = (run_capture(each_engine, jpegs, mode="passive", reload_every=n) for n in (0, 3))
    _same(one.verdict, two.verdict)
