"""The frames a capture keeps, and what they tell at ``decide()``.

While the capture runs: the best frame (whole, for age/gender and the ICAO
photo) and same-person key frames (face crops). A key frame is kept at the
start, whenever the face may have changed, at intervals as a guard and at the
frame that completes the capture; each costs one descriptor (~15-25 ms with
dlib), so a 3 s passive capture of one continuously tracked face keeps two.

At the end: the key frames' embeddings and anti-spoof scores (computed here
unless a worker handed them back already), how alike the faces are, and the
reported embedding, age/gender and ICAO photo of the best frame. Each kept
frame carries the landmarks its frame's analysis found, so nothing finds the
face in its JPEG again (a mesh run each).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import astuple, dataclass, fields
from typing import NamedTuple

import cv2
import numpy as np
import numpy.typing as npt

from .backends.base import Backend, BgrImage, Box, Landmarks
from .decode import decode_image, encode_jpeg
from .icao import icao_photo
from .measures import FaceMeasures, box_from_landmarks, face_measures
from .state import LANDMARK_VALUES, CaptureData, KeyFrame
from .tracking import detect_faces, face_points, scaled
from .types import AgeGender, EngineSettings, IcaoPhoto, KeyEmbedding
from .verdict import FaceEvidence

KEY_CROP_MARGIN = 0.35  # of the face box, on every side of a same-person key frame
KEY_CROP_SIDE = 300  # pixels; the descriptor's own chip is 150
KEY_FRAME_EVERY_S = 3.0
MAX_KEY_FRAMES = 12
MAX_STORED_JPEG = 250_000  # bigger best frames are downscaled before they go into the state

Embedding = npt.NDArray[np.float32]
MEASURE_IOD = [f.name for f in fields(FaceMeasures)].index("iod")  # the only measure in pixels


class FrameFace(NamedTuple):
    """The face as a frame's own analysis found it: where, its 68 landmarks, its measures."""

    box: Box
    landmarks: Landmarks
    measures: FaceMeasures


@dataclass(frozen=True)
class FoundFace:
    """The face in a stored JPEG (its landmarks as the frame's analysis found them, or found again)."""

    bgr: BgrImage
    landmarks: Landmarks
    measures: FaceMeasures  # from the mesh when the backend gives one


@dataclass(frozen=True)
class KeyFrameFindings:
    """What the stored frames showed at ``decide()``."""

    best: FoundFace | None  # the face in the best frame
    best_embedding: Embedding | None  # None when no descriptor was needed
    evidence: FaceEvidence


@dataclass(frozen=True)
class BestFrameReport:
    """What the verdict reports about the face, from the best frame (each only when the plan asks for it)."""

    embedding: tuple[float, ...] | None = None
    age_gender: AgeGender | None = None
    icao: IcaoPhoto | None = None


# -- while the capture runs ------------------------------------------------------------------------
class FrameScore(NamedTuple):
    score: float  # 0..1: how good a best frame this is
    frontal: float  # 0..1: how squarely the face looks at the camera


def _frame_score(st: CaptureData, m: FaceMeasures, quality_ok: bool) -> FrameScore:
    assert st.baseline is not None
    b = st.baseline
    eye_rel = min(1.0, m.eye_open / max(b.eye_open, 1e-6))
    frontal = 1.0 - min(1.0, abs(m.yaw_ratio - b.yaw_ratio) / 0.3)
    neutral = 1.0 if m.mouth_open < b.mouth_open + 0.08 and m.smile < 1.05 * b.smile else 0.0
    return FrameScore(round(0.3 * float(quality_ok) + 0.25 * eye_rel + 0.3 * frontal + 0.15 * neutral, 4), frontal)


def _key_frame_due(st: CaptureData, t: float, frontal: float) -> bool:
    # The first one, whenever the face may have changed (tracking lost, face back, the re-detection
    # elsewhere), every interval as a guard (frontal frames preferred; after twice the interval any
    # frame), and the frame that completes the capture: a second person who slips in while the tracker
    # holds on (a look-alike, a cut between two aligned faces) is the one who answered last.
    due = t - st.last_key_t
    return (
        not st.keys
        or st.key_due
        or st.complete
        or (frontal > 0.6 and due >= KEY_FRAME_EVERY_S)
        or due >= 2 * KEY_FRAME_EVERY_S
    )


def keep_key_frames(
    st: CaptureData,
    frame: bytes,
    t: float,
    face: FrameFace,
    *,
    quality_ok: bool,
    settings: EngineSettings,
) -> None:
    """Keep this frame as the best frame and/or as a key frame when it qualifies (only after the baseline)."""
    if st.baseline is None:
        return
    score, frontal = _frame_score(st, face.measures, quality_ok)
    if st.best is None or score > st.best.score + 0.02:
        st.best = _whole_frame(frame, t, score, face, settings)
    if _key_frame_due(st, t, frontal):
        st.last_key_t = t
        st.key_due = False
        st.keys.append(_face_crop(frame, t, score, face, settings))
        if len(st.keys) > MAX_KEY_FRAMES:
            del st.keys[1]  # a very long capture keeps the first key frame and the latest ones


def _points(landmarks: Landmarks, x0: float = 0.0, y0: float = 0.0, f: float = 1.0) -> list[float] | None:
    """The landmarks moved by (-x0, -y0) and scaled by ``f``, flattened, for ``KeyFrame.points``."""
    pts = np.asarray(landmarks, np.float64)
    if pts.shape != (LANDMARK_VALUES // 2, 2):
        return None
    return [round(float(v), 1) for v in ((pts - (x0, y0)) * f).ravel()]  # 0.1 px, as the planar points


def _face_crop(frame: bytes, t: float, score: float, face: FrameFace, settings: EngineSettings) -> KeyFrame:
    """The face and a margin around it: all the same-person check needs, at a fifth of the bytes.

    Its embedding comes later (``embed_key_frame``, or ``decide``): the frame's feedback does not wait."""
    img = decode_image(frame, max_bytes=settings.max_frame_bytes, max_side=settings.max_side_pixels)
    assert img.bgr is not None
    h, w = img.gray.shape
    box = face.box
    size = max(box[2] - box[0], box[3] - box[1])
    m = int(KEY_CROP_MARGIN * size)
    x0, y0, x1, y1 = max(0, box[0] - m), max(0, box[1] - m), min(w, box[2] + m), min(h, box[3] + m)
    crop = img.bgr[y0:y1, x0:x1]
    f = 1.0
    if max(crop.shape[:2]) > KEY_CROP_SIDE:
        f = KEY_CROP_SIDE / max(crop.shape[:2])
        crop = cv2.resize(crop, (round(crop.shape[1] * f), round(crop.shape[0] * f)), interpolation=cv2.INTER_AREA)
    inside = (box[0] - x0, box[1] - y0, box[2] - x0, box[3] - y0)
    return KeyFrame(
        t=t,
        jpeg=encode_jpeg(crop, quality=88),
        score=score,
        box=list(scaled(inside, f)),
        points=_points(face.landmarks, x0, y0, f),
    )


def _whole_frame(frame: bytes, t: float, score: float, face: FrameFace, settings: EngineSettings) -> KeyFrame:
    measures = [round(float(v), 5) for v in astuple(face.measures)]
    if len(frame) <= MAX_STORED_JPEG:
        return KeyFrame(
            t=t, jpeg=bytes(frame), score=score, box=list(face.box), points=_points(face.landmarks), measures=measures
        )
    img = decode_image(frame, max_bytes=settings.max_frame_bytes, max_side=settings.max_side_pixels)
    assert img.bgr is not None
    h, w = img.gray.shape
    f = min(1.0, 1280 / max(h, w))
    small = cv2.resize(img.bgr, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)
    measures[MEASURE_IOD] = round(measures[MEASURE_IOD] * f, 5)  # the only measure in pixels
    return KeyFrame(
        t=t,
        jpeg=encode_jpeg(small, quality=90),
        score=score,
        box=list(scaled(face.box, f)),
        points=_points(face.landmarks, f=f),
        measures=measures,
    )


# -- key-frame embeddings, possibly computed elsewhere ---------------------------------------------
def descriptors_needed(st: CaptureData, *, has_antispoof: bool) -> bool:
    """A descriptor (~15-25 ms) is computed only when something uses it: two key frames to compare,
    an embedding to report (face recognition), or anti-spoof scores taken alongside. One key frame of
    a face tracked without a break to the end has nothing to be compared with."""
    return st.want_embedding or has_antispoof or len(st.keys) >= 2


def face_in(
    backend: Backend,
    settings: EngineSettings,
    jpeg: bytes,
    box: Box | None = None,
    points: Sequence[float] | None = None,
    measures: Sequence[float] | None = None,
) -> FoundFace | None:
    """The face in a stored JPEG: the 68 landmarks (and measures) its frame's analysis found when ``points`` has
    them, else found again at ``box`` (where the tracker had it), else the largest one found; None: no face."""
    img = decode_image(jpeg, max_bytes=max(len(jpeg), 1), max_side=settings.max_side_pixels)
    assert img.bgr is not None
    if points is not None:
        landmarks = np.asarray(points, np.float32).reshape(-1, 2)
        kept = FaceMeasures(*measures) if measures is not None else face_measures(landmarks)
        return FoundFace(img.bgr, landmarks, kept)
    h, w = img.gray.shape[:2]
    if box is None or not (0 <= box[0] < box[2] <= w and 0 <= box[1] < box[3] <= h):
        boxes = detect_faces(backend, img.gray)
        if not boxes:
            return None
        box = boxes[0]
    face = face_points(backend, img.gray, box, img.bgr)
    return FoundFace(img.bgr, face.landmarks, face.measures()) if face is not None else None


def embed_key_frame(
    backend: Backend,
    settings: EngineSettings,
    jpeg: bytes,
    box: Box | None = None,
    points: Sequence[float] | None = None,
) -> KeyEmbedding | None:
    """The embedding of the face in a key frame's crop (with the frame's own landmarks in it when ``points`` has
    them, else found at ``box`` when known); None when no face is found in it."""
    found = face_in(backend, settings, jpeg, box, points)
    if found is None:
        return None
    embedding = backend.embedding(found.bgr, found.landmarks)
    spoof = backend.antispoof(found.bgr, box_from_landmarks(found.landmarks))
    return KeyEmbedding(embedding=tuple(round(float(v), 6) for v in embedding), spoof=spoof)


def with_key_embeddings(st: CaptureData, found: Mapping[float, KeyEmbedding]) -> None:
    """Fill in the key frames of ``st`` whose embedding is in ``found`` (by key-frame time)."""
    for key in st.keys:
        if key.embedding is None and key.t in found:
            key.embedding, key.spoof = list(found[key.t].embedding), found[key.t].spoof


# -- at decide() -------------------------------------------------------------------------------------
def _key_embeddings(
    backend: Backend, settings: EngineSettings, keys: list[KeyFrame]
) -> tuple[dict[float, Embedding], list[float]]:
    """Each key frame's embedding (by time) and the anti-spoof scores taken with them."""
    by_time: dict[float, Embedding] = {}
    spoof: list[float] = []
    for key in keys:
        if key.embedding is not None:
            embedded: KeyEmbedding | None = KeyEmbedding(embedding=tuple(key.embedding), spoof=key.spoof)
        else:  # nobody embedded it while the capture ran
            embedded = embed_key_frame(backend, settings, key.jpeg, key.tracked_box, key.points)
        if embedded is None:
            continue  # no face in its crop
        by_time[key.t] = np.asarray(embedded.embedding, np.float32)
        if embedded.spoof is not None:
            spoof.append(embedded.spoof)
    return by_time, spoof


def key_frame_findings(backend: Backend, settings: EngineSettings, st: CaptureData) -> KeyFrameFindings:
    """Embed the stored frames as far as anything needs it, and compare them."""
    best = None
    if st.best is not None:
        best = face_in(backend, settings, st.best.jpeg, st.best.tracked_box, st.best.points, st.best.measures)
    # The best frame is nearly always a key frame too (both are taken when the baseline is set);
    # when it is not, it must be compared with them: what is reported comes from it.
    best_apart = best is not None and st.best is not None and bool(st.keys) and all(k.t != st.best.t for k in st.keys)
    needed = descriptors_needed(st, has_antispoof=backend.has_antispoof) or best_apart
    by_time, spoof = _key_embeddings(backend, settings, st.keys if needed else [])
    embeddings = list(by_time.values())
    best_emb: Embedding | None = None
    if best is not None and st.best is not None and needed:
        best_emb = by_time.get(st.best.t)
        if best_emb is None:
            best_emb = backend.embedding(best.bgr, best.landmarks)
            embeddings.append(best_emb)
            value = backend.antispoof(best.bgr, box_from_landmarks(best.landmarks))
            if value is not None:
                spoof.append(value)
    sims = [backend.similarity(a, b) for i, a in enumerate(embeddings) for b in embeddings[i + 1 :]]
    evidence = FaceEvidence(
        key_frames=len(st.keys),
        lowest_similarity=min(sims) if sims else None,
        match_threshold=backend.match_threshold,
        antispoof=float(np.mean(spoof)) if spoof else None,
    )
    return KeyFrameFindings(best=best, best_embedding=best_emb, evidence=evidence)


def _age_gender(backend: Backend, face: FoundFace) -> AgeGender:
    ag = backend.age_gender(face.bgr, face.landmarks)
    return AgeGender(
        estimated_age=ag.age,
        age_confidence=ag.age_confidence,
        estimated_gender=ag.gender,
        gender_confidence=ag.gender_confidence,
        age_margin=ag.age_margin,
    )


def _icao(st: CaptureData, face: FoundFace, open_eye_ratio: float) -> IcaoPhoto:
    b = st.baseline
    return icao_photo(
        face.bgr,
        face.landmarks,
        face.measures,
        eye_open_baseline=b.eye_open if b else None,
        mouth_baseline=b.mouth_open if b else None,
        smile_baseline=b.smile if b else None,
        open_eye_ratio=open_eye_ratio,
    )


def best_frame_report(backend: Backend, st: CaptureData, findings: KeyFrameFindings) -> BestFrameReport:
    """The embedding, age/gender and ICAO photo the plan asks for, from the best frame's face."""
    face = findings.best
    if face is None:
        return BestFrameReport()
    emb = findings.best_embedding
    return BestFrameReport(
        embedding=tuple(round(float(v), 6) for v in emb) if st.want_embedding and emb is not None else None,
        age_gender=_age_gender(backend, face) if st.want_age_gender else None,
        icao=_icao(st, face, backend.open_eye_ratio) if st.want_icao else None,
    )
