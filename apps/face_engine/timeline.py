"""What a capture state says frame by frame, for people: the operator console's signal timeline and thumbnails.

Read-only over a ``CaptureState``: the measure series (every field of a measure row,
by name, so new or renamed measures show up without a change here), the planar
check's residuals per landmark frame, how each challenge ended, and small JPEG
thumbnails of the kept frames. Nothing here takes part in a verdict.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from .planar import MIN_EVIDENCE, PARALLAX, _homography_residual, _similarity_residual
from .state import CaptureData
from .types import CaptureState

THUMB_HEIGHT = 96
THUMB_QUALITY = 70


@dataclass(frozen=True)
class ChallengeMark:
    name: str
    passed: bool
    t: float


@dataclass(frozen=True)
class Thumbnail:
    t: float
    kind: str  # "best" (the frame the photo and embedding come from) or "key" (a same-person face crop)
    jpeg: bytes


@dataclass(frozen=True)
class CaptureTimeline:
    """Per-frame series keyed by measure name (``t`` holds the times), the parallax residual, the challenges."""

    series: dict[str, list[float]]
    parallax: dict[str, list[float]]  # t, similarity residual, homography residual (inter-ocular distances)
    parallax_threshold: float
    evidence_threshold: float
    outcomes: list[ChallengeMark]
    challenges: list[str]
    mode: str

    def to_json(self) -> dict[str, object]:
        return {
            "series": self.series,
            "parallax": self.parallax,
            "parallaxThreshold": self.parallax_threshold,
            "evidenceThreshold": self.evidence_threshold,
            "outcomes": [{"name": o.name, "passed": o.passed, "t": o.t} for o in self.outcomes],
            "challenges": self.challenges,
            "mode": self.mode,
        }


def _data(state: CaptureState) -> CaptureData:
    return state if isinstance(state, CaptureData) else CaptureData.from_json(state.to_json())


def _landmark_times(st: CaptureData) -> list[float]:
    """The time of each stored landmark set: its row in the series (a long capture kept every other set)."""
    if len(st.pts) == len(st.series):
        return [row.t for row in st.series]
    times: list[float] = []
    rows = iter(st.series)
    for pose in st.pts_pose:
        for row in rows:
            if (row.yaw_ratio, row.pitch_ratio) == tuple(pose):
                times.append(row.t)
                break
    return times if len(times) == len(st.pts) else [float(i) for i in range(len(st.pts))]


def _parallax(st: CaptureData) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"t": [], "similarity": [], "homography": []}
    if st.baseline_pts is None or not st.pts:
        return out
    # The points as the planar check reads them (progress.planar_evidence): the verdict's own fits, plotted.
    ref = np.asarray(st.baseline_pts, dtype=np.float32)
    scale = max(float(st.baseline_iod), 1e-6)
    for t, pts in zip(_landmark_times(st), st.pts, strict=True):
        cur = np.asarray(pts, dtype=np.float32).reshape(-1, 2)
        out["t"].append(round(t, 3))
        out["similarity"].append(round(_similarity_residual(ref, cur) / scale, 4))
        out["homography"].append(round(_homography_residual(ref, cur) / scale, 4))
    return out


def capture_timeline(state: CaptureState) -> CaptureTimeline:
    """Everything the state records per frame, as named series."""
    st = _data(state)
    names = type(st.series[0])._fields if st.series else ()
    series = {name: [float(getattr(row, name)) for row in st.series] for name in names}
    return CaptureTimeline(
        series=series,
        parallax=_parallax(st),
        parallax_threshold=PARALLAX,
        evidence_threshold=MIN_EVIDENCE,
        outcomes=[ChallengeMark(str(o.name), bool(o.passed), float(o.t)) for o in st.outcomes],
        challenges=[str(c) for c in st.challenges],
        mode=st.mode,
    )


def _small(jpeg: bytes) -> bytes | None:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), _reduced_decode(jpeg))
    if image is None or not image.size:
        return None
    height, width = image.shape[:2]
    if height > THUMB_HEIGHT:
        size = (max(1, round(width * THUMB_HEIGHT / height)), THUMB_HEIGHT)
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, THUMB_QUALITY])
    return bytes(encoded.tobytes()) if ok else None


def _reduced_decode(jpeg: bytes) -> int:
    """The decode flag that has libjpeg scale the image down by the largest of 1/2, 1/4 and 1/8 that keeps it at
    least THUMB_HEIGHT high (a 480-line frame's thumbnail took 1.3 ms of CPU decoded whole, 0.75 ms this way)."""
    try:
        with Image.open(io.BytesIO(jpeg)) as img:  # reads the header only
            height = min(img.size)  # either side may become the height (an EXIF orientation)
    except Exception:
        return cv2.IMREAD_COLOR  # imdecode says whether it is an image
    for factor, flag in (
        (8, cv2.IMREAD_REDUCED_COLOR_8),
        (4, cv2.IMREAD_REDUCED_COLOR_4),
        (2, cv2.IMREAD_REDUCED_COLOR_2),
    ):
        if height >= factor * THUMB_HEIGHT:
            return flag
    return cv2.IMREAD_COLOR


def capture_thumbnails(state: CaptureState) -> list[Thumbnail]:
    """Small JPEGs of the kept frames, in time order: the best frame and each same-person key frame."""
    st = _data(state)
    kept = [("best", st.best)] if st.best is not None else []
    kept += [("key", key) for key in st.keys]
    thumbs = [(kind, frame.t, _small(frame.jpeg)) for kind, frame in kept if frame.jpeg]
    return sorted((Thumbnail(t, kind, jpeg) for kind, t, jpeg in thumbs if jpeg), key=lambda th: th.t)
