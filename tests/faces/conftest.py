"""Faces fixtures: one engine per test session, real faces as JPEG bytes and their embeddings."""

from __future__ import annotations

import io
import os
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from apps.accounts.models import ApiKey
from apps.accounts.services import api_key_create
from apps.face_engine.types import FaceEngine

# t1.jpg holds six people in one row; these are their face boxes found by dlib's HOG detector.
_T1_MARGIN = 0.6


def _jpeg(array: np.ndarray, quality: int = 92) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="JPEG", quality=quality)
    return out.getvalue()


def _t1() -> np.ndarray:
    import insightface

    path = os.path.join(os.path.dirname(insightface.__file__), "data", "images", "t1.jpg")
    return np.asarray(Image.open(path).convert("RGB"))


@cache
def _t1_boxes() -> list[tuple[int, int, int, int]]:
    import dlib

    rects = dlib.get_frontal_face_detector()(_t1(), 1)
    return sorted(((r.left(), r.top(), r.right(), r.bottom()) for r in rects), key=lambda b: b[0])


def _t1_crop(index: int) -> np.ndarray:
    image = _t1()
    left, top, right, bottom = _t1_boxes()[index]
    margin = int((right - left) * _T1_MARGIN)
    return image[max(0, top - margin) : bottom + margin, max(0, left - margin) : right + margin]


def _astronaut() -> np.ndarray:
    from skimage import data

    # The full image also holds a flag patch that some detectors take for a second face.
    return data.astronaut()[0:280, 110:370]


@dataclass(frozen=True)
class Faces:
    """Photos of real people (JPEG bytes). ``*_again`` is another photo of the same person."""

    astronaut: bytes
    astronaut_again: bytes
    people: tuple[bytes, ...]  # the six people of t1.jpg, left to right
    person0_again: bytes
    two_people: bytes
    no_face: bytes


@pytest.fixture(scope="session")
def faces() -> Faces:
    from skimage import data

    astronaut = _astronaut()
    again = np.ascontiguousarray(astronaut[::, ::-1][10:, 5:250])  # mirrored and cropped: another "photo"
    person0 = _t1_crop(0)
    # Two people side by side, at the same scale as the single-person photos.
    left, right = Image.fromarray(person0), Image.fromarray(_t1_crop(3))
    right = right.resize((round(right.width * left.height / right.height), left.height))
    two = np.hstack([np.asarray(left), np.asarray(right)])
    return Faces(
        astronaut=_jpeg(astronaut),
        astronaut_again=_jpeg(again, quality=80),
        people=tuple(_jpeg(_t1_crop(i)) for i in range(6)),
        person0_again=_jpeg(np.ascontiguousarray(person0[:, ::-1]), quality=80),
        two_people=_jpeg(two),
        no_face=_jpeg(data.coffee()),
    )


@pytest.fixture(scope="session")
def engine() -> FaceEngine:
    """The process's engine, as the API and the services use it (loaded once per test session)."""
    from apps.core.engine import get_engine

    return get_engine()


@dataclass(frozen=True)
class Embedded:
    embedding: tuple[float, ...]
    engine: str
    model_version: str


@pytest.fixture(scope="session")
def embed(engine: FaceEngine, faces: Faces):
    """embed(jpeg) -> Embedded, cached for the whole test session (the engine is the slow part)."""
    from apps.faces.services import embedding_model_version

    memo: dict[bytes, Embedded] = {}

    def run(image: bytes) -> Embedded:
        if image not in memo:
            face = engine.face_from_image(image)
            memo[image] = Embedded(face.embedding, face.engine, embedding_model_version(face.versions))
        return memo[image]

    return run


@pytest.fixture(autouse=True)
def _fresh_search_cache() -> None:
    """Each test starts with an empty per-process search cache (ids are reused across test databases)."""
    from apps.faces.search import search_cache

    search_cache.clear()


@pytest.fixture(scope="session")
def selfie_videos(tmp_path_factory) -> dict[str, bytes]:
    """A live person holding still (the astronaut) as WebM (what browsers record) and MP4, plus a faceless clip."""
    from skimage import data

    from tests.face_engine import synthetic

    folder = tmp_path_factory.mktemp("selfies")
    frames = synthetic.passive_sequence("astronaut", 4.0, fps=10)
    empty = [np.ascontiguousarray(data.coffee()[:400, :600])] * 10
    return {
        "webm": synthetic.write_webm(frames, folder / "selfie.webm", fps=10).read_bytes(),
        "mp4": synthetic.write_mp4(frames, folder / "selfie.mp4", fps=10).read_bytes(),
        "faceless": synthetic.write_mp4(empty, Path(folder / "empty.mp4")).read_bytes(),
    }


@pytest.fixture
def publishable(integrator) -> str:
    return api_key_create(account=integrator.account, name="page", kind=ApiKey.Kind.PUBLISHABLE).plaintext


def new_session_id() -> uuid.UUID:
    return uuid.uuid4()


def face_stored(account, embed, image: bytes, *, collection: str = "members", session_id: uuid.UUID | None = None):
    """``image``'s face put in ``collection`` by a CalculationOnly session: the recognition outcome."""
    from apps.faces.recognition import face_recognition_apply
    from apps.verifications.session_config import FaceRecognitionConfig

    e = embed(image)
    return face_recognition_apply(
        account=account,
        config=FaceRecognitionConfig.from_json({"type": "CalculationOnly", "collectionId": collection}),
        embedding=e.embedding,
        engine=e.engine,
        model_version=e.model_version,
        external_id=None,
        session_id=session_id or new_session_id(),
    )
