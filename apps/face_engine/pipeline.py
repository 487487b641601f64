"""The shared liveness pipeline: one ``FaceEngine`` implementation over any ``Backend``.

Per frame (hot path, target <= 5 ms at 640x480): grayscale decode, landmarks
refreshed from the last box (re-detect only when tracking is lost or every
``redetect_every`` frames, on a half-size image), measures, quality, challenge
detectors. Everything expensive (embeddings, age/gender, ICAO, anti-spoof) is
deferred to ``decide()`` and runs on a few key frames only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from .backends.base import Backend, Box, Detection, GrayImage, Landmarks
from .challenges import CHALLENGE_TIMEOUT_S, DETECTORS, EYE, MOUTH, PITCH, SMILE, YAW, eyes_closed, eyes_open
from .decode import decode_image, encode_jpeg
from .icao import icao_photo
from .measures import (
    RIGID_POINTS,
    FaceMeasures,
    box_from_landmarks,
    box_relation,
    eye_appearance,
    face_measures,
    face_quality,
    rigid_points,
)
from .planar import PlanarResult, planar_check
from .state import CaptureData, KeyFrame
from .types import (
    AgeGender,
    CapturePlan,
    CaptureState,
    Comparison,
    EngineSettings,
    FaceImage,
    FaceImageError,
    FeedbackCode,
    FrameError,
    FrameResult,
    KeyEmbedding,
    Verdict,
)

PIPELINE_VERSION = "1"
BASELINE_FRAMES = 5
PASSIVE_HOLD_S = 2.9  # "about 3 s": 45 frames at 15 fps span 2.93 s
PASSIVE_MAX_S = 6.0
ACTIVE_TAIL_S = 1.0
DETECT_WIDTH = 320  # frames are detected at this width; a selfie face is >= 80 px there
# Same-person key frames (see _keep_key_frames). Each costs one descriptor (~70-90 ms with dlib):
# a 3 s passive capture of one continuously tracked face takes one.
KEY_CROP_MARGIN = 0.35  # of the face box, on every side of a same-person key frame
KEY_CROP_SIDE = 300  # pixels; the descriptor's own chip is 150
KEY_FRAME_EVERY_S = 3.0
MAX_KEY_FRAMES = 12
MAX_PTS_FRAMES = 300  # landmark sets kept in the state for the planar check
MAX_STORED_JPEG = 250_000  # bigger key frames are downscaled before they go into the state
FROZEN_THUMB_DIFF = 0.35  # mean gray-level change of a 32x24 thumbnail; a live head's sway exceeds it
TRACK_MIN_NCC = 0.6  # face patch correlation with the previous frame below which tracking is lost
MIN_EXTRA_FACE_SCORE = 0.2  # detector score a second face needs (t1.jpg's weakest real face: 0.48)
MULTI_FACE_FRAMES = 2  # detection frames with 2+ faces before "multipleFaces" (one false hit is tolerated)


def _thumb(gray: GrayImage) -> npt.NDArray[np.int16]:
    # Every other pixel is plenty for a 32x24 average and halves the cost.
    return cv2.resize(gray[::2, ::2], (32, 24), interpolation=cv2.INTER_AREA).astype(np.int16)


def _scaled(box: Box, factor: float) -> Box:
    return (round(box[0] * factor), round(box[1] * factor), round(box[2] * factor), round(box[3] * factor))


def _same_place(prev: Box, box: Box) -> bool:
    """The tracker's test: about the same size, and the centre moved less than a third of the width."""
    prev_w, new_w = prev[2] - prev[0], box[2] - box[0]
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    pcx, pcy = (prev[0] + prev[2]) / 2, (prev[1] + prev[3]) / 2
    return 0.75 < new_w / max(prev_w, 1) < 1.33 and math.hypot(cx - pcx, cy - pcy) <= 0.35 * prev_w


def _confident(found: list[Detection]) -> list[Detection]:
    """The surest face, plus any other face the detector is reasonably sure of (largest first).

    HOG fires weakly on clothing and badges; one such hit must not turn a
    selfie into "multiple faces".
    """
    if not found:
        return []
    best = max(found, key=lambda d: d.score)
    return [d for d in found if d is best or d.score >= MIN_EXTRA_FACE_SCORE]


def _patch(gray: GrayImage, box: Box) -> npt.NDArray[np.float32]:
    h, w = gray.shape[:2]
    x0, y0, x1, y1 = max(0, box[0]), max(0, box[1]), min(w, box[2]), min(h, box[3])
    if x1 - x0 < 4 or y1 - y0 < 4:
        return np.zeros((16, 16), np.float32)
    return cv2.resize(gray[y0:y1, x0:x1], (16, 16), interpolation=cv2.INTER_AREA).astype(np.float32)


def _ncc(a: npt.NDArray[np.float32], b: list[float]) -> float:
    x = a.ravel() - a.mean()
    y = np.asarray(b, np.float32)
    y = y - y.mean()
    denom = float(np.linalg.norm(x) * np.linalg.norm(y))
    return float(x @ y / denom) if denom > 1e-6 else 0.0


class Engine:
    """``FaceEngine`` over one ``Backend``; stateless between calls (the state travels with the session)."""

    def __init__(self, backend: Backend, settings: EngineSettings) -> None:
        self.backend = backend
        self.settings = settings
        self.name = backend.name
        self.match_threshold = backend.match_threshold
        self.versions: Mapping[str, str] = {"engine": backend.name, "pipeline": PIPELINE_VERSION, **backend.versions}

    # -- capture lifecycle --------------------------------------------------------
    def new_capture(self, plan: CapturePlan) -> CaptureState:
        if plan.mode == "active" and not plan.challenges:
            raise ValueError("An active capture needs at least one challenge.")
        for name in plan.challenges:
            if name not in DETECTORS:
                raise ValueError(f"Unknown challenge {name!r}.")
        return CaptureData(
            mode=plan.mode,
            challenges=list(plan.challenges) if plan.mode == "active" else [],
            fail_on_multiple_faces=plan.fail_on_multiple_faces,
            want_age_gender=plan.want_age_gender,
            want_embedding=plan.want_embedding,
            want_icao=plan.want_icao,
            engine=self.name,
        )

    def load_capture(self, data: str) -> CaptureState:
        return CaptureData.from_json(data)

    # -- detection and tracking ---------------------------------------------------
    def _detect(self, gray: GrayImage) -> list[Box]:
        h, w = gray.shape[:2]
        factor = w / DETECT_WIDTH if w > 1.25 * DETECT_WIDTH else 1.0
        if factor > 1.0:
            small = cv2.resize(gray, (DETECT_WIDTH, max(1, round(h / factor))), interpolation=cv2.INTER_AREA)
            found = _confident(self.backend.detect(small))
            if found:
                return [_scaled(d.box, factor) for d in found]
        return [d.box for d in _confident(self.backend.detect(gray))]

    def _track(self, st: CaptureData, gray: GrayImage) -> tuple[Landmarks | None, Box | None]:
        h, w = gray.shape[:2]
        if st.box is not None and st.since_detect < self.settings.redetect_every:
            prev: Box = tuple(st.box)  # type: ignore[assignment]
            pts = self.backend.landmarks(gray, prev)
            box = box_from_landmarks(pts, st.box_rel)
            cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
            patch = _patch(gray, box)
            # The landmark model always answers, even on a wall: the face patch must still look like the last one.
            lost = (
                not _same_place(prev, box)
                or not (0 <= cx < w and 0 <= cy < h)
                or (st.patch is not None and _ncc(patch, st.patch) < TRACK_MIN_NCC)
            )
            if not lost:
                st.since_detect += 1
                st.patch = patch.ravel().tolist()
                return pts, box
            st.key_due = True  # whatever is found next may be someone else
        elif st.box is None and st.frames_one:
            st.key_due = True  # the face is back after frames without one
        boxes = self._detect(gray)
        st.since_detect = 0
        st.face_count = len(boxes)
        st.max_faces = max(st.max_faces, len(boxes))
        if len(boxes) > 1:
            st.frames_multi += 1
        if not boxes:
            st.box = None
            return None, None
        if st.box is not None and not _same_place(tuple(st.box), boxes[0]):  # type: ignore[arg-type]
            st.key_due = True  # the periodic re-detection found the dominant face elsewhere
        pts = self.backend.landmarks(gray, boxes[0])  # largest face: the dominant one
        st.box_rel = [round(v, 4) for v in box_relation(pts, boxes[0])]
        st.patch = _patch(gray, box_from_landmarks(pts, st.box_rel)).ravel().tolist()
        return pts, boxes[0]

    # -- the hot path ---------------------------------------------------------------
    def analyze_frame(self, state: CaptureState, frame: bytes, timestamp: float) -> FrameResult:
        st = state if isinstance(state, CaptureData) else CaptureData.from_json(state.to_json())
        if st.complete:
            return self._result(st, ("ok",))
        image = decode_image(
            frame, max_bytes=self.settings.max_frame_bytes, max_side=self.settings.max_side_pixels, color=False
        )
        gray = image.gray
        t = max(float(timestamp), st.t_last) if math.isfinite(timestamp) else st.t_last
        st.t_last = t
        st.frames += 1
        # Compare with the first frame, not the previous one: slow natural sway adds up, codec noise does not.
        thumb = _thumb(gray)
        if st.thumb is not None and len(st.thumb) == thumb.size:
            diff = float(np.abs(thumb.ravel() - np.asarray(st.thumb, np.int16)).mean())
            st.max_thumb_diff = max(st.max_thumb_diff, diff)
        else:
            st.thumb = thumb.ravel().tolist()

        pts, box = self._track(st, gray)
        if pts is None or box is None:
            st.frames_none += 1
            self._advance_timeouts(st, t)
            return self._result(st, ("noFace",))
        st.box = list(box)
        st.frames_one += 1
        if st.t_first is None:
            st.t_first = t
        m = face_measures(pts)
        q = face_quality(gray, box)
        if not q.ok:
            st.frames_low_quality += 1
        eye_std, eye_dark = eye_appearance(gray, pts)
        row = [round(t, 3), round(m.yaw_ratio, 4), round(m.pitch_ratio, 4), round(m.eye_open, 4),
               round(m.mouth_open, 4), round(m.smile, 4),
               round(eye_std, 4), round(eye_dark, 4)]  # fmt: skip
        rig = rigid_points(pts)
        if st.pts:
            last = np.asarray(st.pts[-1], np.float32).reshape(-1, 2)
            st.max_pts_motion = max(st.max_pts_motion, float(np.abs(rig - last).max()))
        st.series.append(row)
        st.pts.append([round(float(v), 1) for v in rig.ravel()])
        st.pts_pose.append([row[YAW], row[PITCH]])
        if len(st.pts) > MAX_PTS_FRAMES:
            # A long capture keeps every other landmark set: the planar check needs spread, not density.
            st.pts, st.pts_pose = st.pts[::2], st.pts_pose[::2]
        if st.baseline is None and len(st.series) >= BASELINE_FRAMES:
            self._set_baseline(st)
        self._track_blink(st, row)
        if st.baseline is not None:
            if st.mode == "active":
                self._run_challenges(st, t, row)
            else:
                self._run_passive(st, t)
        self._keep_key_frames(st, frame, t, m, q.ok, box)
        feedback: list[FeedbackCode] = []
        if st.face_count > 1 and st.fail_on_multiple_faces:
            feedback.append("multipleFaces")
        feedback.extend(q.problems())  # type: ignore[arg-type]
        if st.mode == "passive" and st.baseline is not None and abs(row[YAW] - st.baseline[YAW]) > 0.2:
            feedback.append("holdStill")
        return self._result(st, tuple(feedback) or ("ok",))

    def _set_baseline(self, st: CaptureData) -> None:
        rows = np.asarray(st.series[-BASELINE_FRAMES:], dtype=np.float64)
        st.baseline = [round(float(v), 4) for v in np.median(rows, axis=0)]
        pts = np.asarray(st.pts[-BASELINE_FRAMES:], dtype=np.float64)
        st.baseline_pts = np.median(pts, axis=0).reshape(-1, 2).round(2).tolist()
        ref = np.asarray(st.baseline_pts)
        i36, i39, i42, i45 = (RIGID_POINTS.index(k) for k in (36, 39, 42, 45))
        st.baseline_iod = float(np.hypot(*((ref[i42] + ref[i45]) / 2 - (ref[i36] + ref[i39]) / 2)))
        st.challenge_started = st.series[-1][0]

    def _track_blink(self, st: CaptureData, row: list[float]) -> None:
        if st.baseline is None:
            return
        previous = st.series[-2] if len(st.series) >= 2 else None
        if not st.blink_closed and eyes_closed(row, st.baseline, previous):
            st.blink_closed = True
        elif st.blink_closed and eyes_open(row, st.baseline):
            st.blink_closed = False
            st.blinks += 1

    def _is_neutral(self, st: CaptureData, row: list[float]) -> bool:
        b = st.baseline or row
        return (
            abs(row[YAW] - b[YAW]) < 0.1
            and abs(row[PITCH] - b[PITCH]) < 0.03
            and row[EYE] > 0.85 * b[EYE]
            and row[MOUTH] < b[MOUTH] + 0.1
            and row[SMILE] < 1.05 * b[SMILE]
        )

    def _run_challenges(self, st: CaptureData, t: float, row: list[float]) -> None:
        if st.challenge_index >= len(st.challenges):
            # A short tail after the last challenge: the way back to neutral is what shows parallax best.
            last_t = st.outcomes[-1][2] if st.outcomes else t
            if self._is_neutral(st, row) or t - last_t >= ACTIVE_TAIL_S:
                st.complete = True
            return
        if st.challenge_started is None:
            # Wait for a return to neutral so one held pose cannot answer two challenges.
            last_t = st.outcomes[-1][2] if st.outcomes else t
            if self._is_neutral(st, row) or t - last_t > 1.0:
                st.challenge_started = t
            return
        name = st.challenges[st.challenge_index]
        rows = [r for r in st.series if r[0] >= st.challenge_started]
        if DETECTORS[name](rows, st.baseline or row):
            st.outcomes.append([name, True, t])
            st.challenge_index += 1
            st.challenge_started = None
        else:
            self._advance_timeouts(st, t)

    def _advance_timeouts(self, st: CaptureData, t: float) -> None:
        if st.mode == "active":
            if st.challenge_started is not None and st.challenge_index < len(st.challenges):
                if t - st.challenge_started > CHALLENGE_TIMEOUT_S:
                    st.outcomes.append([st.challenges[st.challenge_index], False, t])
                    st.challenge_index = len(st.challenges)
                    st.complete = True  # one failed challenge fails the capture; stop early
        elif st.t_first is not None and t - st.t_first >= PASSIVE_MAX_S:
            st.complete = True

    def _planar(self, st: CaptureData) -> PlanarResult:
        if st.baseline_pts is None:
            return PlanarResult("unknown", 0, 0, 0.0, 0.0)
        frames = [np.asarray(p, np.float32).reshape(-1, 2) for p in st.pts]
        base = st.baseline or [0.0, 0.0, 0.0]
        turns = [(p[0] - base[YAW], p[1] - base[PITCH]) for p in st.pts_pose] if st.pts_pose else None
        return planar_check(frames, np.asarray(st.baseline_pts, np.float32), st.baseline_iod, turns=turns)

    def _run_passive(self, st: CaptureData, t: float) -> None:
        assert st.t_first is not None
        held = t - st.t_first
        if held < PASSIVE_HOLD_S:
            return
        if st.planar_outcome is None or st.planar_outcome == "unknown":
            st.planar_outcome = self._planar(st).outcome
        # Too little evidence is not a pass: wait (up to PASSIVE_MAX_S) for a natural blink or 3-D motion.
        if st.planar_outcome != "unknown" or st.blinks > 0 or held >= PASSIVE_MAX_S:
            st.complete = True

    def _keep_key_frames(self, st: CaptureData, frame: bytes, t: float, m: FaceMeasures, ok: bool, box: Box) -> None:
        if st.baseline is None:
            return
        b = st.baseline
        eye_rel = min(1.0, m.eye_open / max(b[EYE], 1e-6))
        frontal = 1.0 - min(1.0, abs(m.yaw_ratio - b[YAW]) / 0.3)
        neutral = 1.0 if m.mouth_open < b[MOUTH] + 0.08 and m.smile < 1.05 * b[SMILE] else 0.0
        score = round(0.3 * float(ok) + 0.25 * eye_rel + 0.3 * frontal + 0.15 * neutral, 4)
        if st.best is None or score > st.best.score + 0.02:
            st.best = self._key_frame(frame, t, score, box)
        # A key frame: the first one, whenever the face may have changed (tracking lost, face back, the
        # re-detection elsewhere), and every interval as a guard (frontal frames preferred; after twice the
        # interval any frame). The last frame needs none while the face was tracked since the latest one.
        due = t - st.last_key_t
        if not st.keys or st.key_due or (frontal > 0.6 and due >= KEY_FRAME_EVERY_S) or due >= 2 * KEY_FRAME_EVERY_S:
            st.last_key_t = t
            st.key_due = False
            st.keys.append(self._face_crop(frame, t, score, box))
            if len(st.keys) > MAX_KEY_FRAMES:
                del st.keys[1]  # a very long capture keeps the first key frame and the latest ones

    def _face_crop(self, frame: bytes, t: float, score: float, box: Box) -> KeyFrame:
        """The face and a margin around it: all the same-person check needs, at a fifth of the bytes.

        Its embedding comes later (``embed_key_frame``, or ``decide``): the frame's feedback does not wait."""
        img = decode_image(frame, max_bytes=self.settings.max_frame_bytes, max_side=self.settings.max_side_pixels)
        assert img.bgr is not None
        h, w = img.gray.shape
        size = max(box[2] - box[0], box[3] - box[1])
        m = int(KEY_CROP_MARGIN * size)
        x0, y0, x1, y1 = max(0, box[0] - m), max(0, box[1] - m), min(w, box[2] + m), min(h, box[3] + m)
        crop = img.bgr[y0:y1, x0:x1]
        if max(crop.shape[:2]) > KEY_CROP_SIDE:
            f = KEY_CROP_SIDE / max(crop.shape[:2])
            crop = cv2.resize(crop, (round(crop.shape[1] * f), round(crop.shape[0] * f)), interpolation=cv2.INTER_AREA)
        return KeyFrame(t=t, jpeg=encode_jpeg(crop, quality=88), score=score)

    def _key_frame(self, frame: bytes, t: float, score: float, box: Box) -> KeyFrame:
        if len(frame) <= MAX_STORED_JPEG:
            return KeyFrame(t=t, jpeg=bytes(frame), score=score)
        img = decode_image(frame, max_bytes=self.settings.max_frame_bytes, max_side=self.settings.max_side_pixels)
        assert img.bgr is not None
        h, w = img.gray.shape
        f = min(1.0, 1280 / max(h, w))
        small = cv2.resize(img.bgr, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)
        return KeyFrame(t=t, jpeg=encode_jpeg(small, quality=90), score=score)

    def _result(self, st: CaptureData, feedback: tuple[FeedbackCode, ...]) -> FrameResult:
        n = len(st.challenges)
        if st.complete:
            progress = 1.0
        elif st.mode == "active":
            progress = min(0.99, (float(st.baseline is not None) + st.challenge_index) / (n + 1))
        else:
            held = st.t_last - st.t_first if st.t_first is not None else 0.0
            progress = min(0.99, held / PASSIVE_HOLD_S)
        current = None
        if st.mode == "active" and not st.complete and st.baseline is not None and st.challenge_index < n:
            current = st.challenges[st.challenge_index]
        face_count = 0 if "noFace" in feedback else max(1, st.face_count)
        return FrameResult(
            state=st,
            face_count=face_count,
            feedback=feedback,
            current_challenge=current,  # type: ignore[arg-type]
            challenges_done=sum(1 for o in st.outcomes if o[1]),
            progress=round(progress, 3),
            capture_complete=st.complete,
        )

    # -- the verdict ------------------------------------------------------------------
    def _face_in(self, jpeg: bytes) -> tuple[npt.NDArray[np.uint8], Landmarks] | None:
        img = decode_image(jpeg, max_bytes=max(len(jpeg), 1), max_side=self.settings.max_side_pixels)
        assert img.bgr is not None
        boxes = self._detect(img.gray)
        if not boxes:
            return None
        return img.bgr, self.backend.landmarks(img.gray, boxes[0], img.bgr)

    def decide(self, state: CaptureState) -> Verdict:
        st = state if isinstance(state, CaptureData) else CaptureData.from_json(state.to_json())
        return _decide(self, st)

    # -- key-frame embeddings, possibly computed elsewhere ---------------------------------
    def key_frames_pending(self, state: CaptureState) -> tuple[tuple[float, bytes], ...]:
        """(time, face crop JPEG) of each key frame whose embedding the verdict will need and lacks."""
        st = state if isinstance(state, CaptureData) else CaptureData.from_json(state.to_json())
        if not _descriptors_needed(self, st):
            return ()
        return tuple((k.t, k.jpeg) for k in st.keys if k.embedding is None and k.jpeg)

    def embed_key_frame(self, jpeg: bytes) -> KeyEmbedding | None:
        """The embedding of the face in a key frame's crop; None when no face is found in it."""
        found = self._face_in(jpeg)
        if found is None:
            return None
        embedding = self.backend.embedding(*found)
        spoof = self.backend.antispoof(found[0], box_from_landmarks(found[1]))
        return KeyEmbedding(embedding=tuple(round(float(v), 6) for v in embedding), spoof=spoof)

    def with_key_embeddings(self, state: CaptureState, found: Mapping[float, KeyEmbedding]) -> CaptureState:
        """A copy of ``state`` whose key frames carry the embeddings in ``found`` (by key-frame time)."""
        st = CaptureData.from_json(state.to_json())
        for key in st.keys:
            if key.embedding is None and key.t in found:
                key.embedding, key.spoof = list(found[key.t].embedding), found[key.t].spoof
        return st

    # -- stills --------------------------------------------------------------------------
    def face_from_image(self, image: bytes) -> FaceImage:
        try:
            img = decode_image(image, max_bytes=self.settings.max_frame_bytes, max_side=self.settings.max_side_pixels)
        except FrameError as exc:
            raise FaceImageError("badImage", str(exc)) from exc
        assert img.bgr is not None
        boxes = [d.box for d in _confident(self.backend.detect(img.gray, img.bgr))]
        if not boxes and min(img.gray.shape) < 1000:
            # Small faces in a small image: look again at double size.
            big = cv2.resize(img.gray, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_LINEAR)
            boxes = [_scaled(d.box, 0.5) for d in _confident(self.backend.detect(big))]
        if not boxes:
            raise FaceImageError("noFace", "No face was found in the image.")
        if len(boxes) > 1:
            raise FaceImageError("multipleFaces", f"{len(boxes)} faces were found; exactly one is needed.")
        pts = self.backend.landmarks(img.gray, boxes[0], img.bgr)
        emb = self.backend.embedding(img.bgr, pts)
        return FaceImage(embedding=tuple(float(v) for v in emb), box=boxes[0], engine=self.name, versions=self.versions)

    def faces_in_image(self, image: bytes) -> list[FaceImage]:
        """Every face in a still image (largest first), for identify/collections."""
        img = decode_image(image, max_bytes=self.settings.max_frame_bytes, max_side=self.settings.max_side_pixels)
        assert img.bgr is not None
        out = []
        for d in _confident(self.backend.detect(img.gray, img.bgr)):
            pts = self.backend.landmarks(img.gray, d.box, img.bgr)
            emb = self.backend.embedding(img.bgr, pts)
            out.append(FaceImage(tuple(float(v) for v in emb), d.box, self.name, self.versions))
        return out

    def compare(self, a: tuple[float, ...], b: tuple[float, ...]) -> Comparison:
        va, vb = np.asarray(a, np.float32), np.asarray(b, np.float32)
        if va.shape != vb.shape or va.ndim != 1 or not (np.isfinite(va).all() and np.isfinite(vb).all()):
            raise ValueError("Embeddings must be finite vectors of the same length from the same engine.")
        sim = round(self.backend.similarity(va, vb), 4)
        return Comparison(
            similarity=sim,
            is_identical=sim >= self.match_threshold,
            threshold=self.match_threshold,
            engine=self.name,
            versions=self.versions,
        )


def _decide(engine: Engine, st: CaptureData) -> Verdict:
    """Combine every component into pass / fail / retry; see README.md ("Face engine") for the rules."""
    s = engine.settings
    reasons: list[str] = []
    scores: dict[str, float] = {}
    outcomes = {str(o[0]): bool(o[1]) for o in st.outcomes}
    for name in st.challenges:
        outcomes.setdefault(name, False)
    extra: dict[str, Any] = {}

    seen = st.frames_one + st.frames_none
    presence = st.frames_one / seen if seen else 0.0
    scores["facePresence"] = round(min(1.0, presence / 0.8), 3)
    if st.frames_one == 0 or st.baseline is None:
        reasons.append("noFace")
    if st.fail_on_multiple_faces and st.frames_multi >= MULTI_FACE_FRAMES:
        reasons.append("multipleFaces")
        scores["singleFace"] = 0.0
    else:
        scores["singleFace"] = 1.0

    # Landmarks jitter by pixels on re-encoded copies of one image, so only the pixels can tell "frozen".
    frozen = st.frames_one >= BASELINE_FRAMES and st.max_thumb_diff < FROZEN_THUMB_DIFF
    scores["naturalMotion"] = 0.0 if frozen else 1.0
    planar = engine._planar(st)
    extra["planar"] = planar
    if frozen or planar.outcome == "planar":
        reasons.append("presentationAttack")
    if planar.outcome == "live":
        depth = 0.85 + 0.15 * planar.score
    elif planar.outcome == "planar":
        depth = min(0.3, planar.score)
    elif frozen:
        depth = 0.0
    elif st.mode == "active" and outcomes and all(outcomes.values()):
        depth = 0.75  # non-rigid evidence: a printed photo cannot blink, smile or open its mouth on request
    elif st.blinks > 0:
        depth = 0.72
    else:
        depth = 0.55  # too little evidence is not a pass
    scores["depth"] = round(depth, 3)

    if st.mode == "active":
        passed = sum(outcomes.values())
        scores["challenges"] = round(passed / len(outcomes), 3) if outcomes else 0.0
        failed = [n for n, ok in outcomes.items() if not ok and any(o[0] == n for o in st.outcomes)]
        reasons.extend(f"challengeFailed:{n}" for n in failed)
        if not st.complete and st.challenge_index < len(st.challenges):
            # The capture ended while a challenge was still pending.
            reasons.append(f"challengeFailed:{st.challenges[st.challenge_index]}")
            reasons.append("timeout")
        challenge_score = 1.0 if passed == len(outcomes) else 0.2 * passed / max(1, len(outcomes))
    else:
        challenge_score = 1.0
        held = st.t_last - st.t_first if st.t_first is not None else 0.0
        if not st.complete and held < PASSIVE_HOLD_S:
            reasons.append("timeout")

    verdict_extra = _key_frame_checks(engine, st, scores, reasons)

    quality_ok = st.frames_one > 0 and st.frames_low_quality / st.frames_one < 0.5
    scores["quality"] = 1.0 if quality_ok else 0.6
    if not quality_ok and st.frames_one > 0:
        reasons.append("lowQuality")
    if depth == 0.55 and st.mode == "passive" and "presentationAttack" not in reasons:
        reasons.append("insufficientMotion")

    parts = [scores["facePresence"], scores["singleFace"], scores["naturalMotion"], depth, challenge_score,
             scores["quality"], scores.get("sameFace", 1.0), scores.get("antiSpoof", 1.0)]  # fmt: skip
    confidence = 0.0 if "noFace" in reasons else round(float(min(parts)), 3)
    if "timeout" in reasons:
        confidence = min(confidence, (s.pass_threshold + s.retry_threshold) / 2)
    if confidence >= s.pass_threshold:
        verdict = "pass"
    elif confidence >= s.retry_threshold:
        verdict = "retry"
    else:
        verdict = "fail"
    return Verdict(
        verdict=verdict,  # type: ignore[arg-type]
        confidence=confidence,
        scores=scores,
        reasons=tuple(dict.fromkeys(reasons)),
        challenge_outcomes=outcomes,
        total_face_count=max(st.max_faces, 1 if st.frames_one else 0),
        engine=engine.name,
        versions=engine.versions,
        **verdict_extra,
    )


def _descriptors_needed(engine: Engine, st: CaptureData) -> bool:
    """A descriptor (~70-90 ms) is computed only when something uses it: two key frames to compare,
    an embedding to report (face recognition), or anti-spoof scores taken alongside. One key frame of
    a face tracked without a break to the end has nothing to be compared with."""
    return st.want_embedding or engine.backend.has_antispoof or len(st.keys) >= 2


def _key_frame_checks(engine: Engine, st: CaptureData, scores: dict[str, float], reasons: list[str]) -> dict[str, Any]:
    """Same-person check, anti-spoof, embedding, age/gender and ICAO from the stored key frames."""
    out: dict[str, Any] = {}
    backend = engine.backend
    best = engine._face_in(st.best.jpeg) if st.best is not None else None
    # The best frame is nearly always a key frame too (both are taken when the baseline is set);
    # when it is not, it must be compared with them: what is reported comes from it.
    best_apart = best is not None and st.best is not None and bool(st.keys) and all(k.t != st.best.t for k in st.keys)
    needed = _descriptors_needed(engine, st) or best_apart
    by_time: dict[float, npt.NDArray[np.float32]] = {}
    spoof: list[float] = []
    for key in st.keys if needed else ():
        if key.embedding is not None:
            embedded: KeyEmbedding | None = KeyEmbedding(embedding=tuple(key.embedding), spoof=key.spoof)
        else:  # nobody embedded it while the capture ran
            embedded = engine.embed_key_frame(key.jpeg)
        if embedded is None:
            continue  # no face in its crop
        by_time[key.t] = np.asarray(embedded.embedding, np.float32)
        if embedded.spoof is not None:
            spoof.append(embedded.spoof)
    embeddings = list(by_time.values())
    best_emb: npt.NDArray[np.float32] | None = None
    if best is not None and st.best is not None and needed:
        best_emb = by_time.get(st.best.t)
        if best_emb is None:
            best_emb = backend.embedding(*best)
            embeddings.append(best_emb)
            value = backend.antispoof(best[0], box_from_landmarks(best[1]))
            if value is not None:
                spoof.append(value)
    sims = [backend.similarity(a, b) for i, a in enumerate(embeddings) for b in embeddings[i + 1 :]]
    if st.keys and not sims:
        scores["sameFace"] = 1.0  # one key frame: the face was tracked without a break from it to the end
    if sims:
        lowest = min(sims)
        scores["sameFaceSimilarity"] = round(lowest, 3)
        scores["sameFace"] = 1.0 if lowest >= backend.match_threshold else 0.1
        if lowest < backend.match_threshold:
            reasons.append("faceChanged")
    if spoof:
        scores["antiSpoof"] = round(float(np.mean(spoof)), 3)
        if scores["antiSpoof"] < 0.5:
            reasons.append("presentationAttack")
    if best is None:
        return out
    bgr, pts = best
    if st.want_embedding and best_emb is not None:
        out["embedding"] = tuple(round(float(v), 6) for v in best_emb)
    if st.want_age_gender:
        ag = backend.age_gender(bgr, pts)
        out["age_gender"] = AgeGender(
            estimated_age=ag.age,
            age_confidence=ag.age_confidence,
            estimated_gender=ag.gender,
            gender_confidence=ag.gender_confidence,
            age_margin=ag.age_margin,
        )
    if st.want_icao:
        b = st.baseline
        out["icao"] = icao_photo(
            bgr,
            pts,
            face_measures(pts),
            eye_open_baseline=b[EYE] if b else None,
            mouth_baseline=b[MOUTH] if b else None,
            smile_baseline=b[SMILE] if b else None,
        )
    return out
