"""The verdict rules: pass / fail / retry, the scores and the reasons, from the capture's evidence.

A pure function (no images, no models): ``verdict_rules`` reads the capture
state, the planar check and what the key frames showed (``FaceEvidence``,
gathered in ``key_frames.py``). The confidence is the weakest component; see
docs/engine.md ("Liveness") for the rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from .planar import PlanarResult
from .progress import BASELINE_FRAMES, PASSIVE_HOLD_S, all_answered, held_s
from .screen import is_screen
from .state import CaptureData
from .types import VerdictName

FROZEN_THUMB_DIFF = 0.35  # mean gray-level change of a 32x24 thumbnail; a live head's sway exceeds it
FROZEN_MIN_S = PASSIVE_HOLD_S  # ... over at least this long with a face (shorter: too little evidence)
MULTI_FACE_FRAMES = 2  # detection frames with 2+ faces before "multipleFaces" (one false hit is tolerated)
LOW_QUALITY_SHARE = 0.5  # of the face frames, from which the capture is "lowQuality"
INSUFFICIENT_DEPTH = 0.55  # the depth score without any evidence either way: too little is not a pass
ANTISPOOF_MIN = 0.5


@dataclass(frozen=True)
class FaceEvidence:
    """What the key frames' images showed."""

    key_frames: int
    lowest_similarity: float | None  # between any two embedded frames; None with fewer than two
    match_threshold: float
    antispoof: float | None  # mean anti-spoof score; None when the backend has no anti-spoof model


@dataclass(frozen=True)
class Judgement:
    verdict: VerdictName
    confidence: float
    scores: dict[str, float]
    reasons: tuple[str, ...]  # in the order found, each once
    challenge_outcomes: dict[str, bool]
    total_face_count: int


def verdict_rules(
    st: CaptureData, planar: PlanarResult, faces: FaceEvidence, *, pass_threshold: float, retry_threshold: float
) -> Judgement:
    """Combine every component into pass / fail / retry."""
    outcomes = challenge_outcomes(st)
    depth = _depth(st, planar)
    scores = {
        "facePresence": _presence(st),
        "singleFace": 0.0 if _multiple_faces(st) else 1.0,
        "naturalMotion": 0.0 if _frozen(st) else 1.0,
        "noScreen": 0.0 if _screen(st) else 1.0,
        "depth": round(depth, 3),
        **_challenge_scores(st, outcomes),
        **_same_face_scores(faces),
        "quality": 1.0 if _quality_ok(st) else 0.6,
    }
    presence = scores["facePresence"]
    reasons = [
        *_presence_reasons(st, presence, pass_threshold),
        *_attack_reasons(st, planar),
        *_challenge_reasons(st, outcomes),
        *_same_face_reasons(faces, scores),
        *_quality_reasons(st),
    ]
    if depth == INSUFFICIENT_DEPTH and st.mode == "passive" and "presentationAttack" not in reasons:
        reasons.append("insufficientMotion")
    seen = _presence_part(st, presence, pass_threshold, retry_threshold)
    parts = [seen, scores["singleFace"], scores["naturalMotion"], scores["noScreen"], depth, scores["quality"],
             scores.get("sameFace", 1.0), scores.get("antiSpoof", 1.0)]  # fmt: skip
    confidence = _confidence(parts, reasons, pass_threshold=pass_threshold, retry_threshold=retry_threshold)
    return Judgement(
        verdict=verdict_name(confidence, pass_threshold=pass_threshold, retry_threshold=retry_threshold),
        confidence=confidence,
        scores=scores,
        reasons=tuple(dict.fromkeys(reasons)),
        challenge_outcomes=outcomes,
        total_face_count=max(st.max_faces, 1 if st.frames_one else 0),
    )


def challenge_outcomes(st: CaptureData) -> dict[str, bool]:
    """Every challenge of the plan: passed or not (in the order they ended, then those never reached)."""
    outcomes = {str(o.name): bool(o.passed) for o in st.outcomes}
    for name in st.challenges:
        outcomes.setdefault(name, False)
    return outcomes


def verdict_name(confidence: float, *, pass_threshold: float, retry_threshold: float) -> VerdictName:
    if confidence >= pass_threshold:
        return "pass"
    if confidence >= retry_threshold:
        return "retry"
    return "fail"


def _confidence(parts: list[float], reasons: list[str], *, pass_threshold: float, retry_threshold: float) -> float:
    confidence = round(float(min(parts)), 3)
    if "timeout" in reasons or any(r.startswith("challengeFailed:") for r in reasons):
        # A capture cut short, or a challenge missed (after its re-prompts), is too little evidence to pass and
        # no evidence of an attack: the user may try again. Positive evidence keeps its own, lower, score.
        confidence = min(confidence, _halfway(pass_threshold, retry_threshold))
    return confidence


def _halfway(pass_threshold: float, retry_threshold: float) -> float:
    """A confidence that is never a pass and always a retry."""
    return round((pass_threshold + retry_threshold) / 2, 3)


# -- presence and motion ---------------------------------------------------------------------------
def _presence(st: CaptureData) -> float:
    seen = st.frames_one + st.frames_none
    presence = st.frames_one / seen if seen else 0.0
    return round(min(1.0, presence / 0.8), 3)


def _multiple_faces(st: CaptureData) -> bool:
    return st.fail_on_multiple_faces and st.frames_multi >= MULTI_FACE_FRAMES


def _no_face(st: CaptureData) -> bool:
    return st.frames_one == 0 or st.baseline is None


def _presence_part(st: CaptureData, presence: float, pass_threshold: float, retry_threshold: float) -> float:
    """Presence in the confidence: none at all is nothing to judge (0); a face out of view for part of the
    capture is too little evidence to pass, and none of an attack: at worst a retry."""
    return 0.0 if _no_face(st) else max(presence, _halfway(pass_threshold, retry_threshold))


def _presence_reasons(st: CaptureData, presence: float, pass_threshold: float) -> list[str]:
    # "noFace" also when the face was out of view so often that it alone keeps the capture from passing:
    # its words tell the person to keep their face in the oval.
    reasons = ["noFace"] if _no_face(st) or presence < pass_threshold else []
    return [*reasons, "multipleFaces"] if _multiple_faces(st) else reasons


def _frozen(st: CaptureData) -> bool:
    # Landmarks jitter by pixels on re-encoded copies of one image, so only the pixels can tell "frozen"; and
    # only over long enough a time: a live head's sway is seen over seconds, not over a capture cut short.
    long_enough = st.frames_one >= BASELINE_FRAMES and held_s(st) >= FROZEN_MIN_S
    return long_enough and st.max_thumb_diff < FROZEN_THUMB_DIFF


def _screen(st: CaptureData) -> bool:
    # A display's pixel lattice, filmed, shows as moire: a photo or a replayed video on a screen.
    return is_screen(st.screen_samples, st.screen_hits)


def _attack_reasons(st: CaptureData, planar: PlanarResult) -> list[str]:
    return ["presentationAttack"] if _frozen(st) or _screen(st) or planar.outcome == "planar" else []


def _depth(st: CaptureData, planar: PlanarResult) -> float:
    """0..1: how surely the face is three-dimensional and alive."""
    if planar.outcome == "live":
        return 0.85 + 0.15 * planar.score
    if planar.outcome == "planar":
        return min(0.3, planar.score)
    if _frozen(st):
        return 0.0
    if st.mode == "active" and all_answered(st):
        return 0.75  # non-rigid evidence: a printed photo cannot blink, smile or open its mouth on request
    if st.blinks > 0:
        return 0.72
    return INSUFFICIENT_DEPTH


# -- challenges and timing -------------------------------------------------------------------------
def _challenge_scores(st: CaptureData, outcomes: dict[str, bool]) -> dict[str, float]:
    if st.mode != "active":
        return {}
    return {"challenges": round(sum(outcomes.values()) / len(outcomes), 3) if outcomes else 0.0}


def _challenge_reasons(st: CaptureData, outcomes: dict[str, bool]) -> list[str]:
    if st.mode != "active":
        return ["timeout"] if not st.complete and held_s(st) < PASSIVE_HOLD_S else []
    if all_answered(st):
        return []  # a missed challenge replaced by an answered re-prompt stays in the outcomes only
    tried = {o.name for o in st.outcomes}
    reasons = [f"challengeFailed:{n}" for n, ok in outcomes.items() if not ok and n in tried]
    if not st.complete and st.challenge_index < len(st.challenges):
        # The capture ended while a challenge was still pending.
        reasons += [f"challengeFailed:{st.challenges[st.challenge_index]}", "timeout"]
    return reasons


# -- the key frames and quality --------------------------------------------------------------------
def _same_face_scores(faces: FaceEvidence) -> dict[str, float]:
    scores: dict[str, float] = {}
    lowest = faces.lowest_similarity
    if faces.key_frames and lowest is None:
        scores["sameFace"] = 1.0  # one key frame: the face was tracked without a break from it to the end
    if lowest is not None:
        scores["sameFaceSimilarity"] = round(lowest, 3)
        scores["sameFace"] = 1.0 if lowest >= faces.match_threshold else 0.1
    if faces.antispoof is not None:
        scores["antiSpoof"] = round(faces.antispoof, 3)
    return scores


def _same_face_reasons(faces: FaceEvidence, scores: dict[str, float]) -> list[str]:
    reasons = []
    if faces.lowest_similarity is not None and faces.lowest_similarity < faces.match_threshold:
        reasons.append("faceChanged")
    if "antiSpoof" in scores and scores["antiSpoof"] < ANTISPOOF_MIN:  # the score as reported decides
        reasons.append("presentationAttack")
    return reasons


def _quality_ok(st: CaptureData) -> bool:
    return st.frames_one > 0 and st.frames_low_quality / st.frames_one < LOW_QUALITY_SHARE


def _quality_reasons(st: CaptureData) -> list[str]:
    return ["lowQuality"] if not _quality_ok(st) and st.frames_one > 0 else []
