"""Faces in still images (uploads, ID photos, collections) and comparing their embeddings."""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from .backends.base import Backend, Box
from .decode import DecodedImage, decode_image
from .tracking import confident, scaled
from .types import EngineSettings, FaceImageError, FrameError

SMALL_IMAGE_SIDE = 1000  # below this (shorter side), an image without a face is searched again at double size


class StillFace(NamedTuple):
    embedding: tuple[float, ...]
    box: Box


def _decoded(image: bytes, settings: EngineSettings) -> DecodedImage:
    img = decode_image(image, max_bytes=settings.max_frame_bytes, max_side=settings.max_side_pixels)
    assert img.bgr is not None
    return img


def _face_boxes(backend: Backend, img: DecodedImage) -> list[Box]:
    boxes = [d.box for d in confident(backend.detect(img.gray, img.bgr))]
    if not boxes and min(img.gray.shape) < SMALL_IMAGE_SIDE:
        # Small faces in a small image: look again at double size.
        big = cv2.resize(img.gray, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_LINEAR)
        boxes = [scaled(d.box, 0.5) for d in confident(backend.detect(big))]
    return boxes


def _embedded(backend: Backend, img: DecodedImage, box: Box) -> StillFace:
    assert img.bgr is not None
    pts = backend.landmarks(img.gray, box, img.bgr)
    emb = backend.embedding(img.bgr, pts)
    return StillFace(tuple(float(v) for v in emb), box)


def single_face(backend: Backend, settings: EngineSettings, image: bytes) -> StillFace:
    """Exactly one face from a JPEG/PNG, or FaceImageError (badImage, noFace, multipleFaces)."""
    try:
        img = _decoded(image, settings)
    except FrameError as exc:
        raise FaceImageError("badImage", str(exc)) from exc
    boxes = _face_boxes(backend, img)
    if not boxes:
        raise FaceImageError("noFace", "No face was found in the image.")
    if len(boxes) > 1:
        raise FaceImageError("multipleFaces", f"{len(boxes)} faces were found; exactly one is needed.")
    return _embedded(backend, img, boxes[0])


def every_face(backend: Backend, settings: EngineSettings, image: bytes) -> list[StillFace]:
    """Every face in a still image (largest first); FrameError when the image cannot be used."""
    img = _decoded(image, settings)
    return [_embedded(backend, img, d.box) for d in confident(backend.detect(img.gray, img.bgr))]


def similarity(backend: Backend, a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """The backend's similarity of two embeddings (0..1, 4 decimals); ValueError unless comparable."""
    va, vb = np.asarray(a, np.float32), np.asarray(b, np.float32)
    if va.shape != vb.shape or va.ndim != 1 or not (np.isfinite(va).all() and np.isfinite(vb).all()):
        raise ValueError("Embeddings must be finite vectors of the same length from the same engine.")
    return round(backend.similarity(va, vb), 4)
