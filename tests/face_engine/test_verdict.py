"""The verdict rules on hand-built evidence: no images, no models, no database (milliseconds each)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from apps.face_engine.planar import PlanarResult
from apps.face_engine.state import CaptureData, MeasureRow, Outcome
from apps.face_engine.verdict import FaceEvidence, Judgement, verdict_name, verdict_rules

PASS, RETRY = 0.70, 0.45
UNKNOWN = PlanarResult("unknown", 0, 0, 0.0, 0.0)
ONE_KEY_FRAME = FaceEvidence(key_frames=1, lowest_similarity=None, match_threshold=0.6, antispoof=None)
NEUTRAL = MeasureRow(0.3, 0.0, 0.36, 0.3, 0.1, 1.0, 0.4, 0.3)


def passive(**changes: object) -> CaptureData:
    """A complete 3 s passive capture of one well-lit face that blinked once."""
    st = CaptureData(
        mode="passive",
        challenges=[],
        frames=45,
        t_first=0.0,
        t_last=3.0,
        frames_one=45,
        max_faces=1,
        face_count=1,
        baseline=NEUTRAL,
        max_thumb_diff=3.0,
        blinks=1,
        complete=True,
    )
    return replace(st, **changes)


def active(outcomes: list[Outcome], **changes: object) -> CaptureData:
    """An active capture of ``blink`` then ``smile`` that ended with ``outcomes``."""
    fields = {"challenges": ["blink", "smile"], "challenge_index": len(outcomes), **changes}
    return passive(mode="active", blinks=0, outcomes=outcomes, **fields)


def judge(
    st: CaptureData, planar: PlanarResult = UNKNOWN, faces: FaceEvidence = ONE_KEY_FRAME, **thresholds: float
) -> Judgement:
    return verdict_rules(
        st,
        planar,
        faces,
        pass_threshold=thresholds.get("pass_threshold", PASS),
        retry_threshold=thresholds.get("retry_threshold", RETRY),
    )


def test_a_still_live_face_that_blinked_passes_with_its_weakest_component_as_confidence() -> None:
    judged = judge(passive())
    assert judged.verdict == "pass"
    assert judged.confidence == 0.72  # a blink is the only depth evidence
    assert judged.reasons == ()
    assert judged.total_face_count == 1
    # The API returns the scores in this order.
    assert list(judged.scores.items()) == [
        ("facePresence", 1.0),
        ("singleFace", 1.0),
        ("naturalMotion", 1.0),
        ("noScreen", 1.0),
        ("depth", 0.72),
        ("sameFace", 1.0),
        ("quality", 1.0),
    ]


def test_no_face_fails_with_zero_confidence() -> None:
    judged = judge(passive(frames_one=0, frames_none=45, baseline=None, max_faces=0, t_first=None, blinks=0))
    assert judged.verdict == "fail"
    assert judged.confidence == 0.0
    assert judged.reasons[0] == "noFace"
    assert judged.total_face_count == 0
    assert judged.scores["facePresence"] == 0.0


def test_a_face_seen_in_only_part_of_the_frames_lowers_presence() -> None:
    judged = judge(passive(frames_one=30, frames_none=20))
    assert judged.scores["facePresence"] == 0.75  # 60 % of the frames, over the 80 % that count as full presence
    assert judged.verdict == "pass"
    rarely = judge(passive(frames_one=10, frames_none=40))  # a face in 20 % of the frames: no evidence of an attack
    assert rarely.scores["facePresence"] == 0.25
    assert rarely.verdict == "retry" and rarely.confidence == (PASS + RETRY) / 2
    assert rarely.reasons == ("noFace",)  # its words: keep your whole face inside the oval until the end


def test_a_frozen_picture_is_a_presentation_attack() -> None:
    judged = judge(passive(max_thumb_diff=0.1, blinks=0))
    assert judged.verdict == "fail"
    assert judged.reasons == ("presentationAttack",)
    assert judged.scores["naturalMotion"] == 0.0 and judged.scores["depth"] == 0.0


def test_a_display_s_moire_in_a_quarter_of_the_sampled_frames_is_a_presentation_attack_even_with_parallax() -> None:
    # A replayed live session blinks and has a real head's parallax; only the display gives it away.
    three_d = PlanarResult("live", 12, 5, 0.1, 0.12)
    replay = judge(passive(screen_samples=12, screen_hits=3), three_d)
    assert replay.verdict == "fail" and replay.reasons == ("presentationAttack",)
    assert replay.scores["noScreen"] == 0.0 and replay.confidence == 0.0
    live = judge(passive(screen_samples=12, screen_hits=2), three_d)  # a few sharp frames of skin or hair
    assert live.verdict == "pass" and live.scores["noScreen"] == 1.0
    cut_short = judge(passive(screen_samples=4, screen_hits=4), three_d)  # too few samples to tell
    assert cut_short.verdict == "pass"


def test_flat_landmark_motion_is_a_presentation_attack_and_parallax_is_depth() -> None:
    flat = judge(passive(), PlanarResult("planar", 12, 0, 0.03, 0.09))
    assert flat.verdict == "fail" and flat.reasons == ("presentationAttack",)
    assert flat.scores["depth"] <= 0.3
    live = judge(passive(blinks=0), PlanarResult("live", 12, 5, 0.1, 0.12))
    assert live.verdict == "pass" and live.reasons == ()
    assert live.scores["depth"] == 0.985  # 0.85 + 0.15 * (0.8 + 0.2 * 5 / 10)


def test_a_passive_face_without_a_blink_or_parallax_is_insufficient_motion_and_may_retry() -> None:
    judged = judge(passive(blinks=0))
    assert judged.verdict == "retry"
    assert judged.reasons == ("insufficientMotion",)
    assert judged.confidence == 0.55


def test_a_passive_capture_cut_short_is_a_timeout_and_never_a_pass() -> None:
    judged = judge(passive(complete=False, t_last=1.5), PlanarResult("live", 12, 5, 0.1, 0.12))
    assert judged.reasons == ("timeout",)
    assert judged.confidence == (PASS + RETRY) / 2
    assert judged.verdict == "retry"


def test_every_challenge_passed_is_depth_evidence_and_passes() -> None:
    judged = judge(active([Outcome("blink", True, 1.0), Outcome("smile", True, 2.5)]))
    assert judged.verdict == "pass"
    assert judged.challenge_outcomes == {"blink": True, "smile": True}
    assert judged.scores["challenges"] == 1.0 and judged.scores["depth"] == 0.75


def test_a_challenge_missed_after_its_reprompts_is_a_retry_by_name_not_an_attack() -> None:
    # blink passed; smile, then its two fresh replacements (nod, mouth_open) were not answered in time.
    missed = [Outcome("smile", False, 8.5), Outcome("nod", False, 16.0), Outcome("mouth_open", False, 24.0)]
    st = active([Outcome("blink", True, 1.0), *missed], challenges=["blink", "mouth_open"], challenge_index=2,
                reprompts=2)  # fmt: skip
    judged = judge(st)
    assert judged.verdict == "retry"  # no evidence of an attack: the user may try again
    assert judged.reasons == ("challengeFailed:smile", "challengeFailed:nod", "challengeFailed:mouth_open")
    assert judged.challenge_outcomes == {"blink": True, "smile": False, "nod": False, "mouth_open": False}
    assert judged.scores["challenges"] == 0.25
    assert judged.confidence == 0.55  # no depth evidence either way; a missed challenge caps it at 0.575
    three_d = judge(st, PlanarResult("live", 12, 5, 0.1, 0.12))
    assert three_d.verdict == "retry" and three_d.confidence == (PASS + RETRY) / 2  # never a pass


def test_a_missed_challenge_replaced_by_an_answered_reprompt_passes_and_stays_in_the_outcomes() -> None:
    st = active([Outcome("smile", False, 7.5), Outcome("nod", True, 9.0), Outcome("blink", True, 11.0)],
                challenges=["nod", "blink"], reprompts=1)  # fmt: skip
    judged = judge(st)
    assert judged.verdict == "pass" and judged.reasons == ()
    assert judged.challenge_outcomes == {"smile": False, "nod": True, "blink": True}
    assert judged.scores["challenges"] == 0.667 and judged.scores["depth"] == 0.75


def test_a_missed_challenge_with_evidence_of_an_attack_still_fails() -> None:
    frozen = judge(active([Outcome("blink", False, 8.0)], max_thumb_diff=0.1, t_last=24.0, complete=True))
    assert frozen.verdict == "fail" and frozen.reasons[0] == "presentationAttack"
    flat = judge(active([Outcome("blink", False, 8.0)]), PlanarResult("planar", 12, 0, 0.03, 0.09))
    assert flat.verdict == "fail" and "presentationAttack" in flat.reasons


def test_a_challenge_still_pending_when_the_capture_ended_is_failed_and_a_timeout() -> None:
    judged = judge(active([Outcome("blink", True, 1.0)], complete=False))
    assert judged.reasons == ("challengeFailed:smile", "timeout")
    assert judged.challenge_outcomes == {"blink": True, "smile": False}
    assert judged.verdict == "retry"


def test_challenge_outcomes_list_the_ended_ones_first_then_those_never_reached() -> None:
    st = active([Outcome("smile", False, 8.0)], challenge_index=2)
    judged = judge(st)
    assert list(judged.challenge_outcomes.items()) == [("smile", False), ("blink", False)]
    assert judged.reasons == ("challengeFailed:smile",)  # blink was never shown: not failed by name


def test_multiple_faces_fail_only_when_the_plan_says_so_and_after_two_detections() -> None:
    assert judge(passive(frames_multi=1, max_faces=2)).verdict == "pass"  # one false hit is tolerated
    strict = judge(passive(frames_multi=2, max_faces=3))
    assert strict.verdict == "fail"
    assert strict.reasons == ("multipleFaces",)
    assert strict.total_face_count == 3
    lenient = judge(passive(frames_multi=2, max_faces=3, fail_on_multiple_faces=False))
    assert lenient.verdict == "pass" and lenient.scores["singleFace"] == 1.0


def test_key_frames_of_different_people_are_a_face_change() -> None:
    faces = FaceEvidence(key_frames=2, lowest_similarity=0.31, match_threshold=0.6, antispoof=None)
    judged = judge(passive(), faces=faces)
    assert judged.verdict == "fail"
    assert judged.reasons == ("faceChanged",)
    assert judged.scores["sameFaceSimilarity"] == 0.31 and judged.scores["sameFace"] == 0.1
    same = replace(faces, lowest_similarity=0.6)
    assert judge(passive(), faces=same).scores["sameFace"] == 1.0


def test_a_low_anti_spoof_score_is_a_presentation_attack_reported_once() -> None:
    faces = replace(ONE_KEY_FRAME, antispoof=0.2)
    judged = judge(passive(max_thumb_diff=0.1), faces=faces)  # frozen as well
    assert judged.reasons == ("presentationAttack",)
    assert judged.scores["antiSpoof"] == 0.2
    assert judge(passive(), faces=replace(ONE_KEY_FRAME, antispoof=0.9)).verdict == "pass"


def test_mostly_poor_frames_are_low_quality() -> None:
    judged = judge(passive(frames_low_quality=23))
    assert judged.reasons == ("lowQuality",)
    assert judged.scores["quality"] == 0.6
    assert judged.verdict == "retry"
    assert judge(passive(frames_low_quality=22)).reasons == ()


def test_the_thresholds_decide_between_pass_retry_and_fail() -> None:
    assert judge(passive(), pass_threshold=0.99).verdict == "retry"
    assert judge(passive(), pass_threshold=0.99, retry_threshold=0.8).verdict == "fail"


@pytest.mark.parametrize(
    ("confidence", "expected"), [(0.70, "pass"), (0.6999, "retry"), (0.45, "retry"), (0.4499, "fail")]
)
def test_each_threshold_is_inclusive(confidence: float, expected: str) -> None:
    assert verdict_name(confidence, pass_threshold=PASS, retry_threshold=RETRY) == expected


# -- presentationAttack only on positive evidence; too little evidence is a retry that says what to do -------------
MISSED_THRICE = [Outcome("smile", False, 8.0), Outcome("nod", False, 16.0), Outcome("mouth_open", False, 24.0)]
TOO_LITTLE = {
    "still, no blink, no parallax": (passive(blinks=0), UNKNOWN),
    "some out-of-plane motion, not enough to judge": (passive(blinks=0), PlanarResult("unknown", 4, 1, 0.05, 0.07)),
    "no change of the picture, but over too short a time": (
        passive(blinks=0, max_thumb_diff=0.1, t_last=1.5, complete=False), UNKNOWN),
    "challenges missed after their re-prompts": (
        active([Outcome("blink", True, 1.0), *MISSED_THRICE], challenges=["blink", "mouth_open"], reprompts=2),
        UNKNOWN),
    "poor frames and no blink": (passive(blinks=0, frames_low_quality=40), UNKNOWN),
    "the face out of view most of the time": (passive(frames_one=10, frames_none=90), UNKNOWN),
}  # fmt: skip
POSITIVE = {
    "frozen picture": (passive(blinks=0, max_thumb_diff=0.1), UNKNOWN, ONE_KEY_FRAME, "presentationAttack"),
    "flat under out-of-plane motion": (passive(), PlanarResult("planar", 12, 0, 0.03, 0.09), ONE_KEY_FRAME,
                                       "presentationAttack"),
    "anti-spoof model": (passive(), UNKNOWN, replace(ONE_KEY_FRAME, antispoof=0.2), "presentationAttack"),
    "another face mid-capture": (passive(), UNKNOWN, replace(ONE_KEY_FRAME, key_frames=2, lowest_similarity=0.3),
                                 "faceChanged"),
}  # fmt: skip


@pytest.mark.parametrize("case", TOO_LITTLE)
def test_too_little_evidence_is_a_retry_with_words_that_say_what_to_do_never_an_attack(case: str) -> None:
    from apps.sessions.page_texts import REASONS

    st, planar = TOO_LITTLE[case]
    judged = judge(st, planar)
    assert judged.verdict == "retry", (judged.reasons, judged.scores)
    assert "presentationAttack" not in judged.reasons
    assert judged.reasons and all(reason in REASONS for reason in judged.reasons)  # each has its instruction


@pytest.mark.parametrize("case", POSITIVE)
def test_positive_evidence_of_an_attack_fails(case: str) -> None:
    st, planar, faces, reason = POSITIVE[case]
    judged = judge(st, planar, faces)
    assert judged.verdict == "fail" and reason in judged.reasons, (judged.reasons, judged.scores)
