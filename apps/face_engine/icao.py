"""ICAO 9303-style passport photo: 480x600 JPEG, eyes level, head-size and eye-line proportions.

Geometry (ICAO 9303 part 3 / ISO 19794-5 "full frontal" at 35x45 mm):
the chin-to-crown height is 70-80% of the image height; the eye line sits
about 45% of the height from the top (inside the 30-50% band); the face is
centred horizontally. The crown is not a landmark, so it is estimated: on an
adult head the eye line is close to mid-way between chin and crown, so the
head height is about twice the eye-to-chin distance.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from .backends.base import BgrImage, Landmarks
from .decode import encode_jpeg
from .measures import LEFT_EYE, RIGHT_EYE, FaceMeasures
from .types import IcaoPhoto

WIDTH, HEIGHT = 480, 600
EYE_LINE_FROM_TOP = 0.45
HEAD_HEIGHT = 0.75  # chin-to-crown over image height
MAX_YAW_DEG = 10.0
MAX_PITCH_DEG = 12.0
MIN_SHARPNESS = 40.0
MIN_EXPOSURE, MAX_EXPOSURE = 70.0, 200.0
MAX_CLIPPED = 0.02
MAX_BACKGROUND_STD = 28.0
MAX_PADDING = 0.04  # share of the photo that had to be invented beyond the camera frame


def _align_matrix(pts: Landmarks) -> npt.NDArray[Any]:
    right_eye = pts[RIGHT_EYE].mean(axis=0).astype(np.float64)
    left_eye = pts[LEFT_EYE].mean(axis=0).astype(np.float64)
    eyes_mid = (right_eye + left_eye) / 2.0
    chin = pts[8].astype(np.float64)
    angle = math.degrees(math.atan2(left_eye[1] - right_eye[1], left_eye[0] - right_eye[0]))
    eye_to_chin = float(np.hypot(*(chin - eyes_mid)))
    scale = (HEAD_HEIGHT * HEIGHT / 2.0) / max(eye_to_chin, 1e-6)
    m = cv2.getRotationMatrix2D((float(eyes_mid[0]), float(eyes_mid[1])), angle, scale)
    m[0, 2] += WIDTH / 2.0 - eyes_mid[0]
    m[1, 2] += EYE_LINE_FROM_TOP * HEIGHT - eyes_mid[1]
    return m


def icao_photo(
    bgr: BgrImage,
    pts: Landmarks,
    measures: FaceMeasures,
    *,
    eye_open_baseline: float | None = None,
    mouth_baseline: float | None = None,
    smile_baseline: float | None = None,
    open_eye_ratio: float = 0.2,
) -> IcaoPhoto:
    """The aligned 480x600 photo and its compliance checks (each pass/fail).

    ``open_eye_ratio``: the eye ratio below which eyes read closed when there is no baseline (the backend's).
    """
    m = _align_matrix(pts)
    out = cv2.warpAffine(bgr, m, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    # Which output pixels come from outside the camera frame (invented by border replication).
    inside = cv2.warpAffine(
        np.full(bgr.shape[:2], 255, np.uint8), m, (WIDTH, HEIGHT), flags=cv2.INTER_NEAREST, borderValue=0
    )
    padding = float(np.mean(inside == 0))
    gray = cv2.cvtColor(out, cv2.COLOR_BGR2GRAY)
    aligned = cv2.transform(pts.reshape(-1, 1, 2).astype(np.float64), m).reshape(-1, 2)
    x0, y0 = aligned.min(axis=0)
    x1, y1 = aligned.max(axis=0)
    fx0, fy0 = int(max(0, x0)), int(max(0, y0))
    fx1, fy1 = int(min(WIDTH, x1)), int(min(HEIGHT, y1))
    face = gray[fy0:fy1, fx0:fx1] if fx1 > fx0 + 4 and fy1 > fy0 + 4 else gray
    sharp = float(cv2.Laplacian(cv2.resize(face, (96, 96), interpolation=cv2.INTER_AREA), cv2.CV_32F).var())
    exposure = float(face.mean())
    clipped = float(np.mean((face <= 5) | (face >= 250)))
    # Background: a strip above the estimated crown and the outer edges beside the head, which a
    # passport photo keeps one plain colour (no segmentation model: voluminous hair can fail it).
    top = gray[: int(0.05 * HEIGHT)].ravel()
    band = int(0.06 * WIDTH)
    sides = np.concatenate([gray[: HEIGHT // 2, :band].ravel(), gray[: HEIGHT // 2, -band:].ravel()])
    bg_std = float(np.concatenate([top, sides]).std())
    eye_ok = measures.eye_open >= (0.8 * eye_open_baseline if eye_open_baseline else open_eye_ratio)
    mouth_ok = measures.mouth_open <= (mouth_baseline + 0.1 if mouth_baseline is not None else 0.15)
    smile_ok = measures.smile <= (smile_baseline * 1.06 if smile_baseline else 10.0)
    checks = {
        "poseWithinLimits": abs(measures.yaw) <= MAX_YAW_DEG and abs(measures.pitch) <= MAX_PITCH_DEG,
        "eyesOpen": bool(eye_ok),
        "neutralExpression": bool(mouth_ok and smile_ok),
        "sharpness": sharp >= MIN_SHARPNESS,
        "exposure": MIN_EXPOSURE <= exposure <= MAX_EXPOSURE and clipped <= MAX_CLIPPED,
        "backgroundUniformity": bg_std <= MAX_BACKGROUND_STD,
        "faceCentred": padding <= MAX_PADDING,
    }
    return IcaoPhoto(jpeg=encode_jpeg(out, quality=92), checks=checks)
