"""Signals read from the 478-point face mesh (the MediaPipe backend), in place of the 68-point estimates.

* **Head pose** from the mesh's own 3-D geometry: the face's axes are taken
  from rigid vertices (eye corners and cheekbones for left-right, forehead and
  chin for up-down, both in x, y and the model's z), and yaw, pitch and roll
  are the angles of that frame in degrees. No canonical model is needed and
  nothing depends on the camera's focal length. So that the challenge
  thresholds keep their meaning, the ratios are derived from the angles the
  way the 68-point measures map ratios to angles (``yaw_ratio = sin(yaw)``,
  ``pitch_ratio = 0.36 + 0.5 sin(pitch)``).
* **Eyes**: the lid gap at the centre of each eye over the iris diameter (how
  much of the iris the lids leave visible: about 1 open, near 0 closed),
  averaged over both eyes. The iris model's lid contour follows a blink; the
  challenge detectors read it relative to the person's own baseline.
* **Mouth**: inner-lip gap over mouth width; **smile**: mouth width over the
  inter-ocular distance (both relative to the baseline in the detectors).
* **Rigid points** for the planar check: 40 vertices of the forehead, nose,
  eye corners, cheekbones and temples (nothing an expression moves); the first
  four are the eye corners, which give the inter-ocular distance.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from .backends.base import Landmarks, Mesh
from .measures import PITCH_NEUTRAL, FaceMeasures

MeshPoints = npt.NDArray[Any]  # float32, shape (478, 3)

# Mesh vertex for each iBUG 68 point (0-16 jaw from the subject's right ear to the left, 17-26 brows,
# 27-35 nose, 36-47 eyes from each outer corner, 48-67 lips); the subject's right is the image's left.
IBUG68_FROM_MESH = (
    127, 234, 93, 132, 58, 172, 150, 176, 152, 400, 379, 397, 288, 361, 323, 454, 356,
    70, 63, 105, 66, 107, 336, 296, 334, 293, 300,
    168, 197, 5, 4, 75, 97, 2, 326, 305,
    33, 160, 158, 133, 153, 144, 362, 385, 387, 263, 373, 380,
    61, 39, 37, 0, 267, 269, 291, 405, 314, 17, 84, 181,
    78, 82, 13, 312, 308, 317, 14, 87,
)  # fmt: skip
MESH_POINTS = 478


def ibug68(mesh: Mesh) -> Landmarks:
    """The 68 iBUG-ordered (x, y) points of a mesh (what every shared measure reads)."""
    return np.ascontiguousarray(mesh.points[list(IBUG68_FROM_MESH), :2], dtype=np.float32)


# Eye corners first (right outer, right inner, left inner, left outer), then the rest of the rigid set.
MESH_RIGID = (
    33, 133, 362, 263,
    10, 151, 9, 109, 338, 67, 297,  # forehead
    168, 6, 197, 195, 5, 4, 1, 98, 327, 129, 358,  # nose
    116, 345, 123, 352, 50, 280, 117, 346,  # cheekbones
    127, 356, 162, 389, 21, 251, 234, 454, 93, 323,  # temples and the face's sides above the jaw
)  # fmt: skip
RIGHT_IRIS = (469, 471)  # horizontal diameter of the subject's right iris
LEFT_IRIS = (474, 476)
RIGHT_LIDS = (159, 145)  # upper, lower lid at the eye's centre
LEFT_LIDS = (386, 374)


def _unit(v: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.asarray(v / max(float(np.linalg.norm(v)), 1e-9))


def mesh_pose(points: MeshPoints) -> tuple[float, float, float]:
    """Yaw, pitch, roll in degrees (yaw > 0: the user's own left; pitch > 0: head down; roll: eye line clockwise)."""
    p = np.asarray(points, dtype=np.float64)
    across = (p[263] - p[33]) + (p[454] - p[234])  # the subject's right to left, i.e. the image's left to right
    down = (p[152] - p[10]) + (p[200] - p[9])  # forehead to chin
    ex = _unit(across)
    ey = _unit(down - (down @ ex) * ex)
    ez = np.cross(ex, ey)  # away from the camera for a frontal face (the mesh's z grows away from it)
    roll = math.atan2(float(ex[1]), float(ex[0]))
    # Yaw and pitch in the roll-free frame, so a tilted head does not read as a turn or a nod.
    c, s = math.cos(roll), math.sin(roll)
    x, y = c * float(ez[0]) + s * float(ez[1]), -s * float(ez[0]) + c * float(ez[1])
    yaw = math.degrees(math.atan2(-x, float(ez[2])))
    pitch = math.degrees(math.atan2(-y, float(ez[2])))
    return yaw, pitch, math.degrees(roll)


def _dist(p: npt.NDArray[np.float64], a: int, b: int) -> float:
    return float(np.hypot(*(p[a, :2] - p[b, :2])))


def iris_visibility(points: MeshPoints) -> float:
    """Lid gap at the centre of each eye over that iris's diameter, averaged (about 1 open, near 0 closed)."""
    p = np.asarray(points, dtype=np.float64)
    right = _dist(p, *RIGHT_LIDS) / max(_dist(p, *RIGHT_IRIS), 1e-6)
    left = _dist(p, *LEFT_LIDS) / max(_dist(p, *LEFT_IRIS), 1e-6)
    return (right + left) / 2.0


def mesh_measures(points: MeshPoints) -> FaceMeasures:
    """The ``FaceMeasures`` of one face from its 478-point mesh."""
    p = np.asarray(points, dtype=np.float64)
    yaw, pitch, roll = mesh_pose(p)
    right_eye, left_eye = (p[33, :2] + p[133, :2]) / 2.0, (p[362, :2] + p[263, :2]) / 2.0
    iod = max(float(np.hypot(*(left_eye - right_eye))), 1e-6)
    return FaceMeasures(
        yaw=yaw,
        pitch=pitch,
        roll=roll,
        yaw_ratio=math.sin(math.radians(yaw)),
        pitch_ratio=PITCH_NEUTRAL + 0.5 * math.sin(math.radians(pitch)),
        eye_open=iris_visibility(p),
        mouth_open=_dist(p, 13, 14) / max(_dist(p, 78, 308), 1e-6),
        smile=_dist(p, 61, 291) / iod,
        iod=iod,
    )


def mesh_rigid_depth(points: MeshPoints, iod: float) -> list[float]:
    """The mesh's depth (z) of each rigid vertex, centred, in inter-ocular distances (``planar.FLAT_DEPTH_RATIO``)."""
    z = np.asarray(points, dtype=np.float64)[list(MESH_RIGID), 2]
    return [round(float(v), 3) for v in (z - z.mean()) / max(float(iod), 1e-6)]


def mesh_rigid_points(points: MeshPoints) -> npt.NDArray[np.float32]:
    """The (x, y) of the rigid vertices the planar check compares (eye corners first)."""
    return np.asarray(np.asarray(points)[list(MESH_RIGID), :2], dtype=np.float32)
