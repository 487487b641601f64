"""Acceptance: face matching (issue 3, items 5 and 9).

The six people of insightface's ``t1.jpg`` never match each other; one face
still matches itself across scale, JPEG quality and lighting.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pytest

from apps.face_engine.types import FaceEngine
from tests.face_engine import synthetic

pytestmark = pytest.mark.slow

Image = np.ndarray


@pytest.fixture(scope="module")
def t1_embeddings(each_engine: FaceEngine) -> dict[str, tuple[float, ...]]:
    return {
        name: each_engine.face_from_image(synthetic.encode_jpeg(synthetic.portrait(name).image, 92)).embedding
        for name in synthetic.T1_PEOPLE
    }


def test_the_six_people_in_t1_never_match_each_other(
    each_engine: FaceEngine, t1_embeddings: dict[str, tuple[float, ...]]
) -> None:
    for a, b in itertools.combinations(synthetic.T1_PEOPLE, 2):
        comparison = each_engine.compare(t1_embeddings[a], t1_embeddings[b])
        assert not comparison.is_identical, (a, b, comparison.similarity)
        assert comparison.similarity < comparison.threshold


def test_nobody_in_t1_matches_the_astronaut(
    each_engine: FaceEngine, t1_embeddings: dict[str, tuple[float, ...]]
) -> None:
    astronaut = each_engine.face_from_image(synthetic.encode_jpeg(synthetic.portrait("astronaut").image, 92))
    for name, embedding in t1_embeddings.items():
        assert not each_engine.compare(astronaut.embedding, embedding).is_identical, name


def test_a_comparison_is_symmetric_bounded_and_names_its_threshold(
    each_engine: FaceEngine, t1_embeddings: dict[str, tuple[float, ...]]
) -> None:
    a, b = t1_embeddings["t1_0"], t1_embeddings["t1_5"]
    ab, ba = each_engine.compare(a, b), each_engine.compare(b, a)
    assert ab.similarity == pytest.approx(ba.similarity)
    assert 0.0 <= ab.similarity <= 1.0
    assert ab.threshold == each_engine.match_threshold and ab.engine == each_engine.name
    assert ab.versions == each_engine.versions and "dlib_face_recognition_resnet_model_v1" in ab.versions
    itself = each_engine.compare(a, a)
    assert itself.is_identical and itself.similarity == pytest.approx(1.0, abs=1e-3)


def _gain(factor: float) -> Callable[[Image], Image]:
    return lambda img: np.clip(img.astype(np.float32) * factor, 0, 255).astype(np.uint8)


def _gamma(g: float) -> Callable[[Image], Image]:
    return lambda img: (255 * (img.astype(np.float32) / 255) ** g).astype(np.uint8)


def _side_light(img: Image) -> Image:
    """Light from the image's right: the left of the face falls into shadow."""
    ramp = np.linspace(0.35, 1.15, img.shape[1], dtype=np.float32)[None, :, None]
    return np.clip(img * ramp, 0, 255).astype(np.uint8)


def _warm_cast(img: Image) -> Image:
    """Tungsten light: strong orange cast."""
    return np.clip(img * np.array([1.15, 0.95, 0.7], np.float32), 0, 255).astype(np.uint8)


VARIANTS: dict[str, tuple[int, int, Callable[[Image], Image] | None]] = {
    # name: (face width in px, JPEG quality, lighting change)
    "small face (100 px)": (100, 92, None),
    "large face (320 px)": (320, 92, None),
    "JPEG quality 15": (200, 15, None),
    "JPEG quality 40": (200, 40, None),
    "half the light": (200, 92, _gain(0.5)),
    "overexposed": (200, 92, _gain(1.45)),
    "dark gamma": (200, 92, _gamma(1.8)),
    "side light": (200, 92, _side_light),
    "warm colour cast": (200, 92, _warm_cast),
}


@pytest.mark.parametrize("face", ["astronaut", "t1_2"])
def test_one_face_still_matches_itself_across_scale_quality_and_lighting(each_engine: FaceEngine, face: str) -> None:
    reference = each_engine.face_from_image(synthetic.encode_jpeg(synthetic.portrait(face).image, 95)).embedding
    misses = {}
    for variant, (width, quality, light) in VARIANTS.items():
        image = synthetic.portrait(face, face_width=width).image
        if light is not None:
            image = light(image)
        found = each_engine.face_from_image(synthetic.encode_jpeg(image, quality))
        comparison = each_engine.compare(reference, found.embedding)
        if not comparison.is_identical:
            misses[variant] = comparison.similarity
    assert misses == {}


def test_a_live_capture_matches_the_persons_still_photo_and_nobody_else(
    each_engine: FaceEngine, t1_embeddings: dict[str, tuple[float, ...]]
) -> None:
    from tests.face_engine.synth_capture import passive_clip, run_capture

    verdict = run_capture(each_engine, passive_clip("t1_0"), mode="passive").verdict
    assert verdict.embedding is not None
    matches = [name for name, emb in t1_embeddings.items() if each_engine.compare(verdict.embedding, emb).is_identical]
    assert matches == ["t1_0"]
