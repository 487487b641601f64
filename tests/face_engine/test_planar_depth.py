"""The planar check's depth fit: a plane against a rigid body of the face's own shape (issue 11).

Geometry on point sets projected with perspective: what the fits measure is the
shape of the motion, not any model's landmarks (the worlds' tables measure those).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from apps.face_engine import planar

IOD = 60.0


def _face(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """40 (x, y) points over a face's extent and their depth: a rounded face with a nose in front (pixels)."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(-1.0, 1.0, (40, 2)) * IOD
    u, v = xy[:, 0] / IOD, xy[:, 1] / IOD
    z = 0.4 * IOD * (u**2 + v**2) - 0.45 * IOD * np.exp(-((u / 0.33) ** 2 + (v / 0.5) ** 2))  # + is away
    return xy, z - z.mean()


def _view(xy: np.ndarray, z: np.ndarray, yaw: float = 0.0, pitch: float = 0.0, distance: float = 8.0) -> np.ndarray:
    """The points seen by a camera ``distance`` face-widths away after turning by ``yaw``/``pitch`` degrees."""
    a, b = math.radians(yaw), math.radians(pitch)
    turn = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    nod = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
    p = np.column_stack([xy, z]) @ (turn @ nod).T
    depth = p[:, 2] + distance * 2 * IOD
    return p[:, :2] * (distance * 2 * IOD) / depth[:, None] + 320.0


@pytest.mark.parametrize("degrees", [10, 20, 30])
def test_a_turning_head_is_fitted_by_its_own_shape_and_a_tilted_picture_by_a_plane(degrees: int) -> None:
    xy, z = _face()
    ref = _view(xy, z)
    head = _view(xy, z, yaw=degrees)
    assert planar._depth_residual(ref, z, head) < 0.5 * planar._homography_residual(ref, head)
    flat = np.zeros_like(z)
    picture = _view(xy, flat, yaw=degrees, distance=3.0)  # a picture held close: strong perspective
    # The picture's reference is its own frontal view; the depth fit is handed the face's shape all the same.
    assert planar._homography_residual(_view(xy, flat), picture) < 1e-3
    assert planar._depth_residual(_view(xy, flat), z, picture) > 0.01 * IOD


def _noisy(frames: list[np.ndarray], sigma: float, seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [f + rng.normal(0.0, sigma, f.shape) for f in frames]


def test_a_head_whose_parallax_drowns_in_the_noise_is_not_called_flat_once_its_shape_is_known() -> None:
    xy, z = _face()
    z = z * 0.6  # a shallow fit: the landmarks move with less parallax than the head has
    ref = _view(xy, z)
    # Still frames, then a turn to 30 degrees and back: its parallax stays under the capture's noise threshold.
    poses = [0.0] * 6 + [10.0, 15.0, 20.0, 25.0, 30.0, 30.0, 25.0, 20.0, 15.0, 10.0, 0.0]
    frames = _noisy([_view(xy, z, yaw=p) for p in poses], sigma=0.2)
    threshold = 1.0  # no frame counts as parallax: what the mesh's noise floor did to world B's live heads
    without = planar.planar_check(frames, ref, IOD, parallax_threshold=threshold)
    assert without.outcome == "planar"
    with_shape = planar.planar_check(frames, ref, IOD, parallax_threshold=threshold, depth=list(z / IOD))
    assert with_shape.outcome == "unknown"
    assert with_shape.depth_ratio is not None and with_shape.depth_ratio < planar.FLAT_DEPTH_RATIO


@pytest.mark.parametrize("axis", ["yaw", "pitch"])
def test_a_tilted_picture_of_a_face_is_still_flat_with_the_faces_shape(axis: str) -> None:
    xy, z = _face()
    flat = np.zeros_like(z)
    ref = _view(xy, flat, distance=3.0)
    poses = [0.0] * 6 + [10.0, 20.0, 30.0, 30.0, 30.0, 20.0, 10.0, 0.0, -10.0, -20.0, -30.0, -30.0, -30.0, -20.0]
    frames = _noisy([_view(xy, flat, distance=3.0, **{axis: p}) for p in poses], sigma=0.3)
    result = planar.planar_check(frames, ref, IOD, parallax_threshold=0.06, depth=list(z / IOD))
    assert result.outcome == "planar"


def test_a_depth_that_does_not_match_the_points_is_not_used() -> None:
    xy, z = _face()
    flat = np.zeros_like(z)
    ref = _view(xy, flat, distance=3.0)
    poses = [0.0] * 6 + [10.0, 20.0, 30.0, 30.0, 30.0, 20.0, 10.0, 0.0, -10.0, -20.0, -30.0, -30.0, -30.0, -20.0]
    frames = _noisy([_view(xy, flat, distance=3.0, yaw=p) for p in poses], sigma=0.3)
    judged = planar.planar_check(frames, ref, IOD, parallax_threshold=0.06, depth=list(z[:20] / IOD))
    assert judged.outcome == "planar" and judged.depth_ratio is None
