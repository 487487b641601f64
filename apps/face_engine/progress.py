"""A capture's progress, frame by frame.

What each frame adds to the state (its measures, the neutral baseline, blinks,
the frozen-frame thumbnail), how the active challenges and the passive hold
advance, and the ``FrameResult`` the browser is sent.

Capture pauses while there is no usable face (``PAUSING``: missing, too far,
off-centre, too dark or too bright): the time such frames span is not counted,
so neither the passive hold nor a challenge's window moves on, and the capture
resumes by itself on the next usable frame. Time is the frames' own timestamps.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import numpy.typing as npt

from .backends.base import GrayImage, Landmarks
from .baseline import BASELINE_FRAMES, at_rest, baseline_back, rig_iod, set_baseline
from .challenges import (
    CHALLENGE_TIMEOUT_S,
    DETECTORS,
    EYE_LOOK_CLOSED,
    LIMITS_68,
    LIMITS_MESH,
    LIMITS_MESH_THREE_QUARTER,
    MAX_REPROMPTS,
    MESH_LOOK_BLINK_FACTOR,
    MESH_NOISE_BLINK_FACTOR,
    MESH_SMILE_NOISE_FACTOR,
    SMILE_WIDEN,
    Limits,
    eyes_closed,
    eyes_open,
    reprompt_pick,
)
from .measures import FaceMeasures, Quality, eye_appearance
from .planar import MESH_FLAT_PEAK, PARALLAX, PlanarResult, noise_parallax_threshold, planar_check, skull_step
from .state import CaptureData, MeasureRow, Outcome, PoseRatios
from .types import ChallengeName, FeedbackCode, FrameResult

# A face at rest in three-quarter view (30 degrees or more): its far eye is foreshortened, and the lids and
# the eye regions' look jitter by 20 % from frame to frame (world A's t1_4): only a full closure is a blink.
THREE_QUARTER_YAW = 0.5
PASSIVE_HOLD_S = 2.9  # "about 3 s": 45 frames at 15 fps span 2.93 s
PASSIVE_MAX_S = 6.0
# Under load a worker analyses only some of a session's frames (the others are skipped as stale). A hold
# that reached PASSIVE_MAX_S on fewer face frames than this has seen too little to find a blink or depth,
# so it goes on, up to PASSIVE_SPARSE_MAX_S: overload makes the capture slower, not a retry. The page sends
# about 9 frames a second (10 at most), so PASSIVE_MAX_S holds 54-60 face frames and an unloaded capture ends
# exactly as before; three quarters of that are needed. With 30 (half), the load benchmark's live sessions
# analysed at ~5 fps ended at 6 s on 30 frames, and about one in twenty had every blink fall between frames.
PASSIVE_MIN_FACE_FRAMES = 45
PASSIVE_SPARSE_MAX_S = 20.0
ACTIVE_TAIL_S = 1.0
MAX_PTS_FRAMES = 300  # landmark sets kept in the state for the planar check
# Feedback that means no usable face: the capture pauses. Not multipleFaces (the verdict's business), nor
# holdStill, tooBlurry or moveBack (the face is there and measured; quality counts against the verdict).
PAUSING: frozenset[FeedbackCode] = frozenset({"noFace", "comeCloser", "centerFace", "moreLight", "lessLight"})


def frame_time(st: CaptureData, timestamp: float) -> float:
    """Count the frame and return its time: never earlier than the last frame's, whatever the client sent."""
    t = max(float(timestamp), st.t_last) if math.isfinite(timestamp) else st.t_last
    st.t_last = t
    st.frames += 1
    return t


def note_pause(st: CaptureData, since: float, t: float, problems: tuple[FeedbackCode, ...]) -> bool:
    """Whether this frame pauses the capture; a pausing frame's span (from the frame before, ``since``) is
    not capture time. Nothing runs before the first face, so only the span after it is counted."""
    st.paused = any(code in PAUSING for code in problems)
    if st.paused and st.t_first is not None:
        st.paused_s += max(0.0, t - max(since, st.t_first))
    return st.paused


def _thumb(gray: GrayImage) -> npt.NDArray[np.int16]:
    # Every other pixel is plenty for a 32x24 average and halves the cost.
    return cv2.resize(gray[::2, ::2], (32, 24), interpolation=cv2.INTER_AREA).astype(np.int16)


def note_motion(st: CaptureData, gray: GrayImage) -> None:
    """Keep the largest change of the whole picture seen so far (the frozen-frame check)."""
    # Compare with the first frame, not the previous one: slow natural sway adds up, codec noise does not.
    thumb = _thumb(gray)
    if st.thumb is not None and len(st.thumb) == thumb.size:
        diff = float(np.abs(thumb.ravel() - np.asarray(st.thumb, np.int16)).mean())
        st.max_thumb_diff = max(st.max_thumb_diff, diff)
    else:
        st.thumb = thumb.ravel().tolist()


def note_face(
    st: CaptureData,
    t: float,
    gray: GrayImage,
    pts: Landmarks,
    rig: npt.NDArray[np.float32],
    m: FaceMeasures,
    q: Quality,
) -> MeasureRow:
    """Count a frame with a face and store its measures and skull-fixed points (``rig``); returns its row."""
    st.frames_one += 1
    if st.t_first is None:
        st.t_first = t
        st.frames_none = 0  # the empty room before the person sat down is no absence from the capture
    if not q.ok:
        st.frames_low_quality += 1
    look = eye_appearance(gray, pts)
    step = 0.0
    if st.pts:
        last = np.asarray(st.pts[-1], np.float32).reshape(-1, 2)
        st.max_pts_motion = max(st.max_pts_motion, float(np.abs(rig - last).max()))
        step = skull_step(last, rig, st.baseline_iod or rig_iod(st, rig))
    row = MeasureRow(round(t, 3), round(m.yaw_ratio, 4), round(m.pitch_ratio, 4), round(m.eye_open, 4),
                     round(m.mouth_open, 4), round(m.smile, 4),
                     round(look.std, 4), round(look.dark, 4), round(step, 4))  # fmt: skip
    st.series.append(row)
    st.pts.append([round(float(v), 1) for v in rig.ravel()])
    st.pts_pose.append(PoseRatios(row.yaw_ratio, row.pitch_ratio))
    if len(st.pts) > MAX_PTS_FRAMES:
        # A long capture keeps every other landmark set: the planar check needs spread, not density.
        st.pts, st.pts_pose = st.pts[::2], st.pts_pose[::2]
    return row


def advance(st: CaptureData, t: float, row: MeasureRow) -> None:
    """Take the baseline once there are enough frames, count blinks, then move the challenges or the hold on."""
    if st.baseline is None and len(st.series) >= BASELINE_FRAMES and at_rest(st):
        set_baseline(st, baseline_back(st))
        _start_challenge(st, st.series[-1].t)
    _track_blink(st, row)
    if st.baseline is None:
        return
    if st.mode == "active":
        _run_challenges(st, t, row)
    else:
        _run_passive(st, t)


def _start_challenge(st: CaptureData, t: float) -> None:
    st.challenge_started = t
    st.challenge_paused_s = st.paused_s


def challenge_elapsed(st: CaptureData, t: float) -> float:
    """The current challenge's time so far, without the time the capture was paused."""
    if st.challenge_started is None:
        return 0.0
    return t - st.challenge_started - (st.paused_s - st.challenge_paused_s)


def limits(st: CaptureData) -> Limits:
    """The detectors' thresholds for this capture's measures (the mesh's own, or the 68 points')."""
    if not st.mesh:
        return LIMITS_68
    mesh = LIMITS_MESH
    if st.baseline is not None and abs(st.baseline.yaw_ratio) >= THREE_QUARTER_YAW:
        mesh = LIMITS_MESH_THREE_QUARTER
    widen = 1.0 + MESH_SMILE_NOISE_FACTOR * st.baseline_smile_spread
    if widen > mesh.smile_widen:
        mesh = mesh._replace(smile_widen=widen)
    if mesh.noise_blink is not None:
        drop, look = mesh.noise_blink
        drop = max(drop, MESH_NOISE_BLINK_FACTOR * st.baseline_eye_spread)
        mesh = mesh._replace(noise_blink=(drop, max(look, MESH_NOISE_BLINK_FACTOR * st.baseline_look_spread)))
        if st.baseline_look_spread > 0:  # 0: a state saved before the spread was kept
            mesh = mesh._replace(look_blink=max(EYE_LOOK_CLOSED, MESH_LOOK_BLINK_FACTOR * st.baseline_look_spread))
    return mesh


def closure_candidate(st: CaptureData, row: MeasureRow) -> bool:
    """This frame would close the eyes of a blink, read from the 68 points' eye regions (not the mesh's lids)."""
    if st.mesh or st.baseline is None or st.blink_closed:
        return False
    previous = st.series[-2] if len(st.series) >= 2 else None
    return eyes_closed(row, st.baseline, previous, limits(st))


def second_look(st: CaptureData, gray: GrayImage, pts: Landmarks) -> MeasureRow:
    """The last row, its eye regions read at ``pts`` too (a second, independent landmark fit): where that fit
    sees the eyes open (``eyes_open``: the hysteresis's own bound), its look replaces the first and there is
    no closure. A real closure near the threshold reads a little lower on the second fit, not open."""
    row = st.series[-1]
    look = eye_appearance(gray, pts)
    other = row._replace(eye_std=round(look.std, 4), eye_dark=round(look.dark, 4))
    if st.baseline is not None and eyes_open(other, st.baseline, limits(st)):
        st.series[-1] = row = other
    return row


def _track_blink(st: CaptureData, row: MeasureRow) -> None:
    if st.baseline is None:
        return
    previous = st.series[-2] if len(st.series) >= 2 else None
    if not st.blink_closed and eyes_closed(row, st.baseline, previous, limits(st)):
        st.blink_closed = True
    elif st.blink_closed and eyes_open(row, st.baseline, limits(st)):
        st.blink_closed = False
        st.blinks += 1


def _is_neutral(st: CaptureData, row: MeasureRow) -> bool:
    b = st.baseline or row
    return (
        abs(row.yaw_ratio - b.yaw_ratio) < 0.1
        and abs(row.pitch_ratio - b.pitch_ratio) < 0.03
        and row.eye_open > 0.85 * b.eye_open
        and row.mouth_open < b.mouth_open + 0.1
        and row.smile < SMILE_WIDEN * b.smile  # the fixed bound, not the capture's noise-raised one
    )


def _since_last_outcome(st: CaptureData, t: float) -> float:
    return t - (st.outcomes[-1].t if st.outcomes else t)


def _run_challenges(st: CaptureData, t: float, row: MeasureRow) -> None:
    if st.challenge_index >= len(st.challenges):
        # A short tail after the last challenge: the way back to neutral is what shows parallax best.
        if _is_neutral(st, row) or _since_last_outcome(st, t) >= ACTIVE_TAIL_S:
            st.complete = True
        return
    if st.challenge_started is None:
        # Wait for a return to neutral so one held pose cannot answer two challenges.
        if _is_neutral(st, row) or _since_last_outcome(st, t) > 1.0:
            _start_challenge(st, t)
        return
    name = st.challenges[st.challenge_index]
    rows = [r for r in st.series if r.t >= st.challenge_started]
    if DETECTORS[name](rows, st.baseline or row, limits(st)):
        st.outcomes.append(Outcome(name, True, t))
        st.challenge_index += 1
        st.challenge_started = None
    else:
        advance_timeouts(st, t)


def advance_timeouts(st: CaptureData, t: float) -> None:
    """Re-prompt (or end the capture) when the current challenge, or end it when the passive window, ran out."""
    if st.mode == "active":
        if st.challenge_started is not None and st.challenge_index < len(st.challenges):
            if challenge_elapsed(st, t) > CHALLENGE_TIMEOUT_S:
                st.outcomes.append(Outcome(st.challenges[st.challenge_index], False, t))
                _reprompt_or_end(st)
    elif st.t_first is not None and passive_window_over(st):
        st.complete = True


def _reprompt_or_end(st: CaptureData) -> None:
    """A fresh challenge in place of the missed one (its timer starts back at neutral), up to MAX_REPROMPTS."""
    if st.reprompts >= MAX_REPROMPTS:
        st.challenge_index = len(st.challenges)
        st.complete = True  # out of re-prompts: the missed challenge fails the capture; stop early
        return
    used = {o.name for o in st.outcomes}
    st.challenges[st.challenge_index] = reprompt_pick(st.challenges, st.challenge_index, st.reserve, used)
    st.reprompts += 1
    st.challenge_started = None


def all_answered(st: CaptureData) -> bool:
    """Every challenge of the plan was answered: in place of a missed one, the fresh one that replaced it."""
    return bool(st.challenges) and sum(1 for o in st.outcomes if o.passed) >= len(st.challenges)


# Challenges a picture cannot answer by being moved: the face itself changes.
NON_RIGID: frozenset[str] = frozenset({"blink", "smile", "mouth_open"})


def answered_as_asked(st: CaptureData) -> bool:
    """Every challenge answered at the first asking (none missed and replaced), one of them by a change of the face
    itself (a blink, a smile, an open mouth), which no moved picture makes."""
    return all(o.passed for o in st.outcomes) and all_answered(st) and any(o.name in NON_RIGID for o in st.outcomes)


def planar_evidence(st: CaptureData) -> PlanarResult:
    """The planar check over the landmark sets kept so far (``unknown`` before the baseline)."""
    if st.baseline_pts is None:
        return PlanarResult("unknown", 0, 0, 0.0, 0.0)
    if st.mesh and st.mode == "passive" and st.baseline is not None and abs(st.baseline.yaw_ratio) >= THREE_QUARTER_YAW:
        # A passive hold of a face at rest in three-quarter view: the mesh reads a tilted picture of it as a
        # turning head, and the check called such prints live and such live heads flat (worlds A and B), so it
        # is no evidence either way there. The hold then passes on a blink only (docs/engine.md, "Liveness").
        return PlanarResult("unknown", 0, 0, 0.0, 0.0)
    frames = [np.asarray(p, np.float32).reshape(-1, 2) for p in st.pts]
    yaw, pitch = (st.baseline.yaw_ratio, st.baseline.pitch_ratio) if st.baseline else (0.0, 0.0)
    turns = [(p.yaw_ratio - yaw, p.pitch_ratio - pitch) for p in st.pts_pose] if st.pts_pose else None
    reference = np.asarray(st.baseline_pts, np.float32)
    threshold = noise_parallax_threshold(frames, reference, st.baseline_iod) if st.mesh else PARALLAX
    return planar_check(
        frames,
        reference,
        st.baseline_iod,
        turns=turns,
        parallax_threshold=threshold,
        depth=st.baseline_depth,
        turn_gate=limits(st).turn_gate,
        # A face that answered every challenge as asked, one of them by a change of the face itself, is called flat
        # on a clear move only (the mesh's peak). Turns and nods a tilted picture can answer, and a waved print that
        # missed its blink got lucky with a fresh challenge (docs/engine.md): the rules as before for those.
        flat_peak=MESH_FLAT_PEAK if st.mesh and st.mode == "active" and answered_as_asked(st) else 0.0,
    )


def _run_passive(st: CaptureData, t: float) -> None:
    assert st.t_first is not None
    held = held_s(st)
    if held < PASSIVE_HOLD_S:
        return
    if st.planar_outcome is None or st.planar_outcome == "unknown":
        st.planar_outcome = planar_evidence(st).outcome
    # Too little evidence is not a pass: wait (up to PASSIVE_MAX_S) for a natural blink or 3-D motion.
    if st.planar_outcome != "unknown" or st.blinks > 0 or passive_window_over(st):
        st.complete = True


def passive_window_over(st: CaptureData) -> bool:
    """The passive hold has waited for evidence as long as it may (longer when few frames were analysed)."""
    held = held_s(st)
    face_frames = st.frames_one + st.frames_multi
    return held >= PASSIVE_SPARSE_MAX_S or (held >= PASSIVE_MAX_S and face_frames >= PASSIVE_MIN_FACE_FRAMES)


def held_s(st: CaptureData) -> float:
    """How long a usable face has been in view since the first frame with one (pauses not counted)."""
    return st.t_last - st.t_first - st.paused_s if st.t_first is not None else 0.0


def frame_feedback(st: CaptureData, q: Quality, row: MeasureRow) -> tuple[FeedbackCode, ...]:
    """What the user should change, most important first; ``ok`` when nothing."""
    feedback: list[FeedbackCode] = []
    if st.face_count > 1 and st.fail_on_multiple_faces:
        feedback.append("multipleFaces")
    feedback.extend(q.problems())
    if st.mode == "passive" and st.baseline is not None and abs(row.yaw_ratio - st.baseline.yaw_ratio) > 0.2:
        feedback.append("holdStill")
    return tuple(feedback) or ("ok",)


def _progress(st: CaptureData) -> float:
    if st.complete:
        return 1.0
    if st.mode == "active":
        return min(0.99, (float(st.baseline is not None) + st.challenge_index) / (len(st.challenges) + 1))
    return min(0.99, held_s(st) / PASSIVE_HOLD_S)


def _current_challenge(st: CaptureData) -> ChallengeName | None:
    if st.mode == "active" and not st.complete and st.baseline is not None and st.challenge_index < len(st.challenges):
        return st.challenges[st.challenge_index]
    return None


def _challenge_left_s(st: CaptureData) -> float | None:
    if _current_challenge(st) is None:
        return None
    return round(max(0.0, CHALLENGE_TIMEOUT_S - challenge_elapsed(st, st.t_last)), 2)


def frame_result(st: CaptureData, feedback: tuple[FeedbackCode, ...]) -> FrameResult:
    """What the browser is told after a frame."""
    return FrameResult(
        state=st,
        face_count=0 if "noFace" in feedback else max(1, st.face_count),
        feedback=feedback,
        current_challenge=_current_challenge(st),
        challenges_done=sum(1 for o in st.outcomes if o.passed),
        progress=round(_progress(st), 3),
        capture_complete=st.complete,
        reprompts=st.reprompts,
        paused=st.paused and not st.complete,
        challenge_left_s=_challenge_left_s(st),
    )
