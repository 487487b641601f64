"""The internal model-backend interface shared by every engine.

The liveness pipeline (tracking, measures, challenges, planar check, verdict,
ICAO) lives once in ``apps.face_engine``; a backend only plugs in models. Three
backends exist: ``dlib`` and ``mediapipe`` (offline, from wheels) and ``insightface``.

Conventions every backend follows:

* Images are ``numpy.ndarray``: ``gray`` is HxW uint8, ``bgr`` is HxWx3 uint8
  (OpenCV order), both in the raw, un-mirrored camera orientation.
* A box is ``(left, top, right, bottom)`` in integer pixels of the image given.
* Landmarks are a float32 array of shape (68, 2) in image pixels, ordered like
  dlib's iBUG 300-W 68-point layout (0-16 jaw, 17-21 right brow, 22-26 left
  brow, 27-35 nose, 36-41 right eye, 42-47 left eye, 48-67 mouth; "right" is
  the subject's right, i.e. the image's left). A backend whose model uses a
  different layout (InsightFace's 106-point 2d106det) maps it to this layout
  before returning (see ``IBUG68_FROM_INSIGHTFACE106`` there), so every measure
  reads the same indices.
* ``embedding`` takes the full BGR image plus that face's 68 landmarks and does
  its own alignment (dlib: 5-point chip at 150x150; InsightFace: ArcFace
  112x112 similarity transform). It returns an L2-normalised float32 vector.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

Box = tuple[int, int, int, int]
# Arrays are typed loosely because OpenCV returns untyped ndarrays; the shapes and dtypes are the contract.
Landmarks = npt.NDArray[Any]  # float32, shape (68, 2)
GrayImage = npt.NDArray[Any]  # uint8, shape (H, W)
BgrImage = npt.NDArray[Any]  # uint8, shape (H, W, 3)


@dataclass(frozen=True)
class Detection:
    """One detected face: its box and the detector's confidence (any monotone score)."""

    box: Box
    score: float


@dataclass(frozen=True)
class AgeGenderEstimate:
    age: float  # years
    age_confidence: float  # 0..1
    gender: Literal["Male", "Female"]
    gender_confidence: float  # 0..1
    age_margin: float  # the model's typical absolute error in years (used for threshold checks)


class Mesh(NamedTuple):
    """A dense face mesh: 478 points (x, y in image pixels; z in pixels, larger = farther) and the face score."""

    points: npt.NDArray[Any]  # float32, shape (478, 3)
    presence: float  # the mesh model's probability that its crop holds a face


@runtime_checkable
class MeshBackend(Protocol):
    """A backend that also gives the dense mesh (MediaPipe); the pipeline then reads the mesh signals."""

    def mesh(self, gray: GrayImage, box: Box, bgr: BgrImage | None = None) -> Mesh: ...


@runtime_checkable
class Backend(Protocol):
    """The models one engine provides. Stateless between calls; safe to share in a process."""

    @property
    def name(self) -> Literal["dlib", "insightface", "mediapipe"]: ...

    # Model file name (or pack name) -> version/hash string; reported in every result.
    versions: Mapping[str, str]
    # Similarity in [0, 1] at or above which two embeddings are the same person.
    match_threshold: float
    # Length of the vectors ``embedding`` returns (dlib 128, ArcFace 512).
    embedding_size: int
    # Whether ``antispoof`` can answer at all (dlib has no anti-spoof model).
    has_antispoof: bool
    # Eye aspect ratio below which a face without a baseline (a single photo) reads as eyes closed.
    open_eye_ratio: float

    def detect(self, gray: GrayImage, bgr: BgrImage | None = None) -> list[Detection]:
        """All faces in the image, largest first. ``bgr`` is passed when the model needs colour."""
        ...

    def landmarks(self, gray: GrayImage, box: Box, bgr: BgrImage | None = None) -> Landmarks:
        """68 iBUG-ordered landmarks for the face in ``box`` (also used to track from the last box)."""
        ...

    def embedding(self, bgr: BgrImage, landmarks: Landmarks) -> npt.NDArray[np.float32]:
        """L2-normalised identity embedding of the face with these landmarks."""
        ...

    def similarity(self, a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> float:
        """Similarity in [0, 1] of two embeddings from this backend (1 = identical)."""
        ...

    def age_gender(self, bgr: BgrImage, landmarks: Landmarks) -> AgeGenderEstimate:
        """Age and gender of the face with these landmarks."""
        ...

    def antispoof(self, bgr: BgrImage, box: Box) -> float | None:
        """Passive anti-spoof score in [0, 1] (1 = live), or None when the backend has no such model."""
        ...
