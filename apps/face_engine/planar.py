"""The planar-motion check: is the "face" a flat picture moved in front of the camera?

Every point of a flat photo or screen moves by one plane homography, however
the picture is moved, tilted or warped. A real head is not flat: when it turns
or nods, the nose moves relative to the jaw and the eye corners (parallax) and
no homography explains the landmark motion. For each frame we compare its
skull-fixed landmarks with a reference frame:

* ``r_sim``: RMS residual of the best similarity transform (shift, scale,
  in-plane rotation) - how much the face moved in a way that is *not* a simple
  shift/zoom/roll. This is the evidence available.
* ``r_h``: RMS residual of the best homography - what a flat object cannot produce.

Both are divided by the inter-ocular distance. Frames with ``r_sim`` below
``MIN_EVIDENCE`` carry no information (a still head and a still photo look
alike). Among informative frames, a live head keeps ``r_h`` well above the
landmark noise; a flat picture keeps it at the noise floor.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Literal

import cv2
import numpy as np
import numpy.typing as npt

# Thresholds in inter-ocular distances, tuned on the synthetic live and attack
# sequences (tests/face_engine/synthetic.py; figures in docs/engine.md ("Liveness")):
# live turns and nods reach r_h 0.08-0.12, flat pictures tilted by up to 30
# degrees stay below 0.07 (dlib's shape prior adds some non-planar bias on a
# tilted picture), and a still head or a still picture stays below r_sim 0.04.
MIN_EVIDENCE = 0.05  # r_sim of a frame that moved out of plane enough to judge
PARALLAX = 0.065  # r_h no flat picture reached (largest seen: 0.060)
PARALLAX_YAW = 0.3  # yaw-ratio change (~10 degrees) a parallax frame needs ...
PARALLAX_PITCH = 0.07  # ... or pitch-ratio change (~9 degrees)
MAX_STEP = 0.12  # r_sim change between consecutive frames beyond which landmarks are not trusted
MIN_PARALLAX_FRAMES = 3  # frames with parallax that make a head three-dimensional
MIN_PLANAR_FRAMES = 5  # strongly informative frames without parallax that make a picture flat
PLANAR_EVIDENCE = 0.06  # r_sim of a strongly informative frame (a swaying head rarely gets there)
MAX_PLANAR_OUTLIERS = 0.1  # share of informative frames a flat picture may show "parallax" in (landmark jitter)
MAX_PLANAR_RATIO = 0.75  # median r_h / r_sim of a flat picture (a nodding head: ~0.9)

# The mesh (40 rigid vertices) judges parallax against the landmark noise of the capture itself: the 90th
# percentile of r_h over its still frames (r_sim < MIN_EVIDENCE), which the same model and the same camera
# produced. On the synthetic clips (tests/face_engine/synthetic.py) live turns and nods reached 5.5-37 times
# that noise, prints and screens waved or tilted (three-quarter views included) at most 2.7 times.
NOISE_PARALLAX_FACTOR = 4.0
NOISE_PARALLAX_FLOOR = 0.06  # never below this (IODs), however quiet the still frames
NOISE_DEFAULT = 0.04  # the noise assumed when fewer than MIN_STILL_FRAMES were still (the largest seen)
MIN_STILL_FRAMES = 5
# A flat picture's motion is a homography; the same motion fitted as a rigid face-shaped body (an affine camera
# on the mesh's own depths, as many parameters) leaves more. Median over informative frames of the body's
# residual over the plane's that a capture must reach to be called flat (chosen on world A, docs/engine.md).
FLAT_DEPTH_RATIO = 0.22
# With the mesh, a face that answered every challenge as asked, one of them by the face itself
# (``progress.answered_as_asked``), is called flat only when the capture moved out of plane clearly at least
# once: its largest r_sim (IODs) must reach this. World B's two frontal live heads called flat
# after answering a nod and a blink, and an open mouth, peaked at 0.075 and 0.079; every attack of worlds A and B
# under challenges that only the planar check refused peaked at 0.111 or more (docs/benchmarks.md, "Flat on a
# clear move only"). Below it the capture is "unknown" and passes on the answered challenges.
MESH_FLAT_PEAK = 0.09


@dataclass(frozen=True)
class PlanarResult:
    outcome: Literal["live", "planar", "unknown"]
    informative_frames: int  # frames with r_sim >= MIN_EVIDENCE
    parallax_frames: int  # frames with r_h >= PARALLAX
    residual: float  # 90th percentile of r_h over informative frames (IODs)
    evidence: float  # largest r_sim seen (IODs)
    threshold: float = PARALLAX  # the r_h that counted as parallax in this capture
    depth_ratio: float | None = None  # median over informative frames of the depth fit's residual over r_h

    @property
    def score(self) -> float:
        """0..1 where 1 is clearly three-dimensional and 0 clearly flat; 0.5 unknown."""
        if self.outcome == "unknown":
            return 0.5
        if self.outcome == "live":
            return float(min(1.0, 0.8 + 0.2 * self.parallax_frames / 10))
        return float(max(0.0, min(0.3, 0.3 * self.residual / self.threshold)))


def _rms(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> float:
    return float(np.sqrt(np.mean(np.sum((a - b) ** 2, axis=1))))


# The residuals of one (reference, frame) pair, by both point sets' bytes: the passive hold re-judges the
# frames kept so far on every frame until it has evidence, the verdict judges them again, the attempt timeline
# plots them. Each is a pure function of the two point sets, so a remembered value is the value.
RESIDUAL_CACHE_SIZE = 4096  # about 1.3 KB each with the mesh's 40 rigid points: ~6 MB


def _fit_residual(kind: str, src: npt.NDArray[np.float64], dst: npt.NDArray[np.float64]) -> float:
    if kind == "depth":
        # An affine camera on the reference's points with their depth (x, y, z, 1: 8 parameters, as many as
        # a homography): every view of a rigid body of that shape, turned, nodded, rolled, moved or zoomed.
        base = np.column_stack([src, np.ones(len(src))])
        coef, *_ = np.linalg.lstsq(base, dst, rcond=None)
        return _rms(base @ coef, dst)
    if kind == "similarity":
        m, _ = cv2.estimateAffinePartial2D(src, dst, method=cv2.LMEDS)
        if m is None:
            return 0.0
        return _rms(src @ m[:, :2].T + m[:, 2], dst)
    # Plain least squares (method 0): every point counts, so parallax cannot be voted away.
    h, _ = cv2.findHomography(src, dst, 0)
    if h is None:
        return 0.0
    return _rms(cv2.perspectiveTransform(src.reshape(-1, 1, 2), h).reshape(-1, 2), dst)


@functools.lru_cache(maxsize=RESIDUAL_CACHE_SIZE)
def _remembered_residual(kind: str, src: bytes, dst: bytes) -> float:
    return _fit_residual(
        kind, np.frombuffer(src).reshape(-1, 3 if kind == "depth" else 2), np.frombuffer(dst).reshape(-1, 2)
    )


def _residual(kind: str, src: npt.NDArray[Any], dst: npt.NDArray[Any]) -> float:
    def raw(points: npt.NDArray[Any]) -> bytes:
        return np.ascontiguousarray(points, dtype=np.float64).tobytes()

    return _remembered_residual(kind, raw(src), raw(dst))


def _similarity_residual(src: npt.NDArray[Any], dst: npt.NDArray[Any]) -> float:
    return _residual("similarity", src, dst)


def _homography_residual(src: npt.NDArray[Any], dst: npt.NDArray[Any]) -> float:
    return _residual("homography", src, dst)


def _depth_residual(src: npt.NDArray[Any], depth: npt.NDArray[Any], dst: npt.NDArray[Any]) -> float:
    return _residual("depth", np.column_stack([src, depth]), dst)


def skull_step(previous: npt.NDArray[Any], current: npt.NDArray[Any], iod: float) -> float:
    """How far the skull-fixed points moved from the frame before in a way no shift, zoom or roll explains
    (inter-ocular distances): a still head stays below ``MIN_EVIDENCE``; a landmark fit that missed does not."""
    prev = np.asarray(previous, dtype=np.float64)
    return _similarity_residual(prev, np.asarray(current, dtype=np.float64)) / max(float(iod), 1e-6)


def noise_parallax_threshold(
    frames: list[npt.NDArray[np.float32]], reference: npt.NDArray[np.float32], iod: float
) -> float:
    """The r_h a frame needs to count as parallax, from the noise of this capture's still frames."""
    ref = np.asarray(reference, dtype=np.float64)
    scale = max(float(iod), 1e-6)
    still = []
    for pts in frames:
        cur = np.asarray(pts, dtype=np.float64)
        if _similarity_residual(ref, cur) / scale < MIN_EVIDENCE:
            still.append(_homography_residual(ref, cur) / scale)
    noise = float(np.percentile(still, 90)) if len(still) >= MIN_STILL_FRAMES else NOISE_DEFAULT
    return max(NOISE_PARALLAX_FLOOR, NOISE_PARALLAX_FACTOR * noise)


def planar_check(
    frames: list[npt.NDArray[np.float32]],
    reference: npt.NDArray[np.float32],
    iod: float,
    *,
    turns: list[tuple[float, float]] | None = None,
    parallax_threshold: float = PARALLAX,
    depth: list[float] | None = None,
    turn_gate: tuple[float, float] = (PARALLAX_YAW, PARALLAX_PITCH),
    flat_peak: float = 0.0,
) -> PlanarResult:
    """Judge a sequence of rigid-landmark sets (N x 2 each) against a neutral reference.

    ``turns`` (optional, per frame): the change of the yaw and pitch ratios from
    the baseline. A frame's residual only counts as parallax when the head turned
    or nodded enough to produce that much: a real head shows r_h ~0.1 only near
    15+ degrees, while landmark jitter on a slightly tilted picture of a face
    already seen in three-quarter view can reach 0.077.

    ``parallax_threshold``: the r_h a parallax frame needs; the fixed ``PARALLAX`` for the 68 points, the
    capture's own noise floor for the mesh (``noise_parallax_threshold``).

    ``turn_gate``: the yaw- and pitch-ratio changes that make a frame "turned" (the capture's
    ``challenges.Limits.turn_gate``).

    ``depth`` (the mesh only): each reference point's depth in inter-ocular distances. A picture is then only
    called flat when a plane explains its motion clearly better than a rigid body of the face's own shape does
    (``FLAT_DEPTH_RATIO``): a head turning in a room whose parallax drowns in the noise is not flat.

    ``flat_peak``: the largest r_sim a capture must show to be called flat (``MESH_FLAT_PEAK`` for the mesh once
    every challenge was answered as asked, one by the face itself; else 0: the rules above).
    """
    ref = np.asarray(reference, dtype=np.float64)
    scale = max(float(iod), 1e-6)
    informative: list[tuple[float, float]] = []
    # A depth that does not match the points (another rigid set) is not used: the capture is judged without it.
    shaped = np.asarray(depth, dtype=np.float64) * scale if depth is not None and len(depth) == len(ref) else None
    depth_fits: list[float] = []
    parallax = 0
    evidence = 0.0
    reliable, previous = True, 0.0
    for i, pts in enumerate(frames):
        cur = np.asarray(pts, dtype=np.float64)
        r_sim = _similarity_residual(ref, cur) / scale
        # A head turns through intermediate poses; a jump in one frame is the landmark model losing
        # the face (glare, blur). Distrust everything until the face is back near neutral.
        if abs(r_sim - previous) > MAX_STEP:
            reliable = False
        elif r_sim < MIN_EVIDENCE:
            reliable = True
        previous = r_sim
        if r_sim < MIN_EVIDENCE or not reliable:
            continue
        evidence = max(evidence, r_sim)
        r_h = _homography_residual(ref, cur) / scale
        informative.append((r_sim, r_h))
        if shaped is not None:
            depth_fits.append(_depth_residual(ref, shaped, cur) / scale / max(r_h, 1e-6))
        turned = turns is None or abs(turns[i][0]) >= turn_gate[0] or abs(turns[i][1]) >= turn_gate[1]
        parallax += r_h >= parallax_threshold and turned
    if not informative:
        return PlanarResult("unknown", 0, 0, 0.0, evidence, parallax_threshold)
    arr = np.asarray(informative)
    residual = float(np.percentile(arr[:, 1], 90))
    ratio = float(np.median(arr[:, 1] / arr[:, 0]))
    depth_ratio = float(np.median(depth_fits)) if depth_fits else None
    outcome: Literal["live", "planar", "unknown"] = "unknown"
    if parallax >= MIN_PARALLAX_FRAMES:
        outcome = "live"
    elif (
        (arr[:, 0] >= PLANAR_EVIDENCE).sum() >= MIN_PLANAR_FRAMES
        # One or two jittery frames among many do not make a picture three-dimensional.
        and parallax <= MAX_PLANAR_OUTLIERS * len(informative)
        and ratio <= MAX_PLANAR_RATIO
        and (depth_ratio is None or depth_ratio >= FLAT_DEPTH_RATIO)
        and evidence >= flat_peak
    ):
        outcome = "planar"
    return PlanarResult(outcome, len(informative), parallax, residual, evidence, parallax_threshold, depth_ratio)
