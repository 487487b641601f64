"""Finding the face in a frame and following it from one frame to the next.

The detector runs on a copy at most ``DETECT_WIDTH`` wide, and only when the
tracker has lost the face or every ``redetect_every`` frames; in between, the
landmarks are refreshed from the last box, and the face patch must still look
like the previous frame's. The tracker's fields live in the ``CaptureData``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import cv2
import numpy as np
import numpy.typing as npt

from .backends.base import Backend, BgrImage, Box, Detection, GrayImage, Landmarks, MeshBackend
from .measures import FaceMeasures, box_from_landmarks, box_relation, face_measures
from .mesh_signals import MeshPoints, ibug68, mesh_measures
from .state import CaptureData

DETECT_WIDTH = 320  # frames are detected at this width; a selfie face is >= 80 px there
TRACK_MIN_NCC = 0.6  # face patch correlation with the previous frame below which tracking is lost
MIN_EXTRA_FACE_SCORE = 0.2  # detector score a second face needs (t1.jpg's weakest real face: 0.48)
MIN_MESH_PRESENCE = 0.5  # a mesh backend's face probability below which the followed face is lost
REFIT_SHIFT = 0.05  # a box edge this far (of the width) from where the points put it: fit the points again


class TrackedFace(NamedTuple):
    """The dominant face of a frame: 68 iBUG landmarks, and the dense mesh when the backend gives one."""

    landmarks: Landmarks
    box: Box
    mesh: MeshPoints | None = None

    def measures(self) -> FaceMeasures:
        """Pose and expression: from the mesh when there is one, else from the 68 landmarks."""
        return mesh_measures(self.mesh) if self.mesh is not None else face_measures(self.landmarks)


def face_points(backend: Backend, gray: GrayImage, box: Box, bgr: BgrImage | None = None) -> TrackedFace | None:
    """The face's points in ``box``; None when a mesh backend says the crop holds no face."""
    if isinstance(backend, MeshBackend):
        found = backend.mesh(gray, box, bgr)
        if found.presence < MIN_MESH_PRESENCE:
            return None
        return TrackedFace(ibug68(found), box, found.points)
    return TrackedFace(backend.landmarks(gray, box, bgr), box)


def as_box(values: list[int]) -> Box:
    return (values[0], values[1], values[2], values[3])


def scaled(box: Box, factor: float) -> Box:
    return (round(box[0] * factor), round(box[1] * factor), round(box[2] * factor), round(box[3] * factor))


def same_place(prev: Box, box: Box) -> bool:
    """The tracker's test: about the same size, and the centre moved less than a third of the width."""
    prev_w, new_w = prev[2] - prev[0], box[2] - box[0]
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    pcx, pcy = (prev[0] + prev[2]) / 2, (prev[1] + prev[3]) / 2
    return 0.75 < new_w / max(prev_w, 1) < 1.33 and math.hypot(cx - pcx, cy - pcy) <= 0.35 * prev_w


def near(prev: Box, box: Box) -> bool:
    """The box a fit came from is where its points say the face is (within REFIT_SHIFT of the width)."""
    width = max(prev[2] - prev[0], 1)
    return max(abs(a - b) for a, b in zip(prev, box, strict=True)) <= REFIT_SHIFT * width


def confident(found: list[Detection]) -> list[Detection]:
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


def detect_faces(backend: Backend, gray: GrayImage) -> list[Box]:
    """Boxes of the confident faces in ``gray`` (largest first), found on a copy at most ``DETECT_WIDTH`` wide."""
    h, w = gray.shape[:2]
    factor = w / DETECT_WIDTH if w > 1.25 * DETECT_WIDTH else 1.0
    if factor > 1.0:
        small = cv2.resize(gray, (DETECT_WIDTH, max(1, round(h / factor))), interpolation=cv2.INTER_AREA)
        found = confident(backend.detect(small))
        if found:
            return [scaled(d.box, factor) for d in found]
    return [d.box for d in confident(backend.detect(gray))]


def track_face(backend: Backend, st: CaptureData, gray: GrayImage, *, redetect_every: int) -> TrackedFace | None:
    """The dominant face of this frame, followed from the last one while that holds; None when there is none.

    Updates the tracker's fields of ``st``, the face counts, and ``key_due`` when the face may have changed.
    """
    if st.box is not None and st.since_detect < redetect_every:
        followed = _follow(backend, st, gray, as_box(st.box))
        if followed is not None:
            return followed
        st.key_due = True  # whatever is found next may be someone else
    elif st.box is None and st.frames_one:
        st.key_due = True  # the face is back after frames without one
    return _redetect(backend, st, gray)


def _follow(backend: Backend, st: CaptureData, gray: GrayImage, prev: Box) -> TrackedFace | None:
    h, w = gray.shape[:2]
    found = face_points(backend, gray, prev)
    if found is None:
        return None
    box = box_from_landmarks(found.landmarks, st.box_rel)
    if not near(prev, box):
        # The landmark model starts from the box's mean face: in a box the face has left (a frame long
        # after the last, or a fast move) the points are wrong by part of an eye. Fit again where they say.
        found = face_points(backend, gray, box)
        if found is None:
            return None
        box = box_from_landmarks(found.landmarks, st.box_rel)
    pts = found.landmarks
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    patch = _patch(gray, box)
    # The landmark model always answers, even on a wall: the face patch must still look like the last one.
    lost = (
        not same_place(prev, box)
        or not (0 <= cx < w and 0 <= cy < h)
        or (st.patch is not None and _ncc(patch, st.patch) < TRACK_MIN_NCC)
    )
    if lost:
        return None
    st.since_detect += 1
    st.patch = patch.ravel().tolist()
    return TrackedFace(pts, box, found.mesh)


def _redetect(backend: Backend, st: CaptureData, gray: GrayImage) -> TrackedFace | None:
    boxes = detect_faces(backend, gray)
    st.since_detect = 0
    st.face_count = len(boxes)
    st.max_faces = max(st.max_faces, len(boxes))
    if len(boxes) > 1:
        st.frames_multi += 1
    if not boxes:
        st.box = None
        return None
    if st.box is not None and not same_place(as_box(st.box), boxes[0]):
        st.key_due = True  # the periodic re-detection found the dominant face elsewhere
    found = face_points(backend, gray, boxes[0])  # largest face: the dominant one
    if found is None:
        st.box = None
        return None
    st.box_rel = [round(v, 4) for v in box_relation(found.landmarks, boxes[0])]
    st.patch = _patch(gray, box_from_landmarks(found.landmarks, st.box_rel)).ravel().tolist()
    return found
