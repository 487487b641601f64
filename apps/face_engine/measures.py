"""Per-frame measures read from 68 iBUG landmarks and the grayscale frame.

Angles are geometric estimates (no 3-D model fit), good enough for the
challenge detectors, which only compare a measure with the user's own
neutral baseline. Sign conventions, in the raw un-mirrored camera image:

* ``yaw`` > 0: the user turned toward their own LEFT (nose toward the image's right).
* ``pitch`` > 0: the user tilted their head DOWN (nose toward the chin).
* ``roll`` > 0: the eye line rotates clockwise in the image.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import NamedTuple

import cv2
import numpy as np
import numpy.typing as npt

from .backends.base import Box, GrayImage, Landmarks
from .types import FeedbackCode

RIGHT_EYE = slice(36, 42)  # the subject's right eye: the image's left
LEFT_EYE = slice(42, 48)
# Points that move with the skull, not with expressions (no jaw below the cheekbones, lips, lids or brows).
RIGID_POINTS = (0, 1, 2, 14, 15, 16, 27, 28, 29, 30, 31, 33, 35, 36, 39, 42, 45)
# Neutral value of the pitch ratio on an average frontal face (astronaut(), t1.jpg faces).
PITCH_NEUTRAL = 0.36

# Quality limits (gray levels and fractions of the frame); see docs/engine.md ("Per-frame measures and tracking").
MIN_BRIGHTNESS = 60.0
MAX_BRIGHTNESS = 200.0
MIN_CONTRAST = 18.0
MIN_SHARPNESS = 40.0
MIN_FACE_WIDTH = 0.18
MAX_FACE_WIDTH = 0.75
MAX_CENTRE_OFFSET = 0.18


@dataclass(frozen=True)
class FaceMeasures:
    yaw: float  # degrees, + = the user's own left
    pitch: float  # degrees, + = head down
    roll: float  # degrees
    yaw_ratio: float  # raw [-1, 1] nose offset between the jaw edges
    pitch_ratio: float  # raw nose height between eye line and chin
    eye_open: float  # mean eye aspect ratio (~0.3 open, ~0.1 closed)
    mouth_open: float  # inner-lip gap over inner-mouth width
    smile: float  # mouth width over inter-ocular distance
    iod: float  # inter-ocular distance in pixels

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 4) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Quality:
    brightness: float
    contrast: float
    sharpness: float
    face_width: float  # face box width / frame width
    centre_offset: float  # distance of the face centre from the frame centre / frame width

    def problems(self) -> tuple[FeedbackCode, ...]:
        """Feedback codes for what is wrong, most important first."""
        out: list[FeedbackCode] = []
        if self.face_width < MIN_FACE_WIDTH:
            out.append("comeCloser")
        elif self.face_width > MAX_FACE_WIDTH:
            out.append("moveBack")
        if self.centre_offset > MAX_CENTRE_OFFSET:
            out.append("centerFace")
        if self.brightness < MIN_BRIGHTNESS or self.contrast < MIN_CONTRAST:
            out.append("moreLight")
        elif self.brightness > MAX_BRIGHTNESS:
            out.append("lessLight")
        if self.sharpness < MIN_SHARPNESS:
            out.append("tooBlurry")
        return tuple(out)

    @property
    def ok(self) -> bool:
        return not self.problems()

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 4) for k, v in asdict(self).items()}


def _dist(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> float:
    return float(math.hypot(float(a[0] - b[0]), float(a[1] - b[1])))


def eye_aspect_ratio(eye: npt.NDArray[np.float32]) -> float:
    """Soukupova & Cech's EAR: lid gaps over the eye width."""
    width = _dist(eye[0], eye[3])
    if width < 1e-6:
        return 0.0
    return (_dist(eye[1], eye[5]) + _dist(eye[2], eye[4])) / (2.0 * width)


def ratio_degrees(ratio: float) -> float:
    """The angle whose sine is ``ratio`` (clipped to [-1, 1]): how the yaw and pitch ratios map to degrees."""
    return math.degrees(math.asin(max(-1.0, min(1.0, ratio))))


def face_measures(pts: Landmarks) -> FaceMeasures:
    """Pose and expression measures of one face from its 68 landmarks."""
    pts = np.asarray(pts, dtype=np.float32)
    right_eye_c = pts[RIGHT_EYE].mean(axis=0)
    left_eye_c = pts[LEFT_EYE].mean(axis=0)
    dx, dy = float(left_eye_c[0] - right_eye_c[0]), float(left_eye_c[1] - right_eye_c[1])
    iod = max(math.hypot(dx, dy), 1e-6)
    roll = math.degrees(math.atan2(dy, dx))
    # Work in a roll-free frame so a tilted head does not read as a turn or a nod.
    c, s = dx / iod, dy / iod
    rot = np.array([[c, s], [-s, c]], dtype=np.float32)
    p = (pts - right_eye_c) @ rot.T
    nose = p[30]
    d_right = abs(float(nose[0] - p[0][0]))  # to the jaw edge on the image's left
    d_left = abs(float(p[16][0] - nose[0]))
    yaw_ratio = (d_right - d_left) / max(d_right + d_left, 1e-6)
    eyes_y = float((p[RIGHT_EYE][:, 1].mean() + p[LEFT_EYE][:, 1].mean()) / 2.0)
    chin_y = float(p[8][1])
    pitch_ratio = (float(nose[1]) - eyes_y) / max(chin_y - eyes_y, 1e-6)
    mouth_w_inner = max(_dist(pts[60], pts[64]), 1e-6)
    mouth_open = _dist(pts[62], pts[66]) / mouth_w_inner
    smile = _dist(pts[48], pts[54]) / iod
    eye_open = (eye_aspect_ratio(pts[RIGHT_EYE]) + eye_aspect_ratio(pts[LEFT_EYE])) / 2.0
    yaw = ratio_degrees(yaw_ratio)
    pitch = ratio_degrees((pitch_ratio - PITCH_NEUTRAL) / 0.5)
    return FaceMeasures(
        yaw=yaw,
        pitch=pitch,
        roll=roll,
        yaw_ratio=yaw_ratio,
        pitch_ratio=pitch_ratio,
        eye_open=eye_open,
        mouth_open=mouth_open,
        smile=smile,
        iod=iod,
    )


class EyeLook(NamedTuple):
    """How both eye regions look, relative to the cheek just below them."""

    std: float  # contrast
    dark: float  # darkest-decile grey level


def eye_appearance(gray: GrayImage, pts: Landmarks) -> EyeLook:
    """Contrast (std) and darkest-decile grey level of both eye regions, over the cheek just below.

    Closing the eyes changes what the eye region looks like (the iris and the
    white disappear under the lid); tilting a photo of open eyes does not, even
    when the landmark geometry (the eye aspect ratio) jitters. Dividing by the
    skin right under each eye cancels exposure changes and a glare sweeping
    over a screen, which light the eye and its cheek alike.
    """
    h, w = gray.shape[:2]
    stds, lows = [], []
    for a, b in ((36, 39), (42, 45)):
        cx, cy = (pts[a] + pts[b]) / 2.0
        width = max(float(np.hypot(*(pts[b] - pts[a]))), 2.0)
        x0, x1 = int(max(0, cx - 0.6 * width)), int(min(w, cx + 0.6 * width))
        y0, y1 = int(max(0, cy - 0.35 * width)), int(min(h, cy + 0.35 * width))
        roi = gray[y0:y1, x0:x1]
        cheek = gray[int(min(h, cy + 0.45 * width)) : int(min(h, cy + 0.9 * width)), x0:x1]
        if roi.size < 4 or cheek.size < 4:
            return EyeLook(0.0, 0.0)
        skin = max(float(cheek.mean()), 1.0)
        flat = roi.ravel()
        k = flat.size // 10
        stds.append(float(flat.std()) / skin)
        lows.append(float(np.partition(flat, k)[k]) / skin)  # the 10th percentile, without sorting
    return EyeLook(sum(stds) / 2.0, sum(lows) / 2.0)


def face_quality(gray: GrayImage, box: Box) -> Quality:
    """Exposure, contrast and sharpness inside the face box, and its size and position."""
    h, w = gray.shape[:2]
    x0, y0 = max(0, box[0]), max(0, box[1])
    x1, y1 = min(w, box[2]), min(h, box[3])
    if x1 - x0 < 4 or y1 - y0 < 4:
        return Quality(0.0, 0.0, 0.0, 0.0, 1.0)
    roi = gray[y0:y1, x0:x1]
    # Sharpness on a fixed-size patch so it does not depend on the distance to the camera.
    patch = cv2.resize(roi, (96, 96), interpolation=cv2.INTER_AREA)
    sharp = float(cv2.Laplacian(patch, cv2.CV_32F).var())
    mean, std = cv2.meanStdDev(patch)
    cx, cy = (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0
    offset = math.hypot(cx - w / 2.0, cy - h / 2.0) / w
    return Quality(
        brightness=float(mean[0][0]),
        contrast=float(std[0][0]),
        sharpness=sharp,
        face_width=(box[2] - box[0]) / w,
        centre_offset=offset,
    )


def rigid_points(pts: Landmarks) -> npt.NDArray[np.float32]:
    """The skull-fixed subset used by the planar-motion check."""
    return np.asarray(pts, dtype=np.float32)[list(RIGID_POINTS)]


# A dlib HOG box relative to the rigid points' centroid, in units of their RMS spread
# (measured on astronaut() and the t1.jpg faces); replaced per session by the
# relation seen at the last detection.
DEFAULT_BOX_REL = (-1.45, -1.45, 1.5, 1.5)


def _rigid_frame(pts: Landmarks) -> tuple[float, float, float]:
    rig = rigid_points(pts)
    c = rig.mean(axis=0)
    spread = float(np.sqrt(((rig - c) ** 2).sum(axis=1).mean()))
    return float(c[0]), float(c[1]), max(spread, 1e-6)


def box_relation(pts: Landmarks, box: Box) -> tuple[float, float, float, float]:
    """Where a detector box sits relative to the face's rigid points (scale-free)."""
    cx, cy, s = _rigid_frame(pts)
    return ((box[0] - cx) / s, (box[1] - cy) / s, (box[2] - cx) / s, (box[3] - cy) / s)


def box_from_landmarks(pts: Landmarks, rel: tuple[float, float, float, float] | list[float] | None = None) -> Box:
    """A detector-like box for these landmarks, to refresh landmarks in the next frame.

    Anchored on skull-fixed points so an opening mouth or a blink does not move it.
    """
    cx, cy, s = _rigid_frame(pts)
    r = rel or DEFAULT_BOX_REL
    return (round(cx + r[0] * s), round(cy + r[1] * s), round(cx + r[2] * s), round(cy + r[3] * s))
