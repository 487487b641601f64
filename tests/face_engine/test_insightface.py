"""The InsightFace backend, run on stand-in ONNX models of the real shapes (see insightface_standins.py).

What these tests prove: files are found and loaded, each model is fed the
crop, size, colour order and normalisation it expects, and its outputs are
parsed into the right boxes, landmarks, embedding, age, gender and score.
What they cannot prove: the real models' accuracy (no weights exist here).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from apps.face_engine.backends.base import Backend
from apps.face_engine.backends.insightface import (
    InsightFaceBackend,
    build_insightface_backend,
    insightface_available,
)
from apps.face_engine.types import ModelFilesMissing
from tests.face_engine import insightface_standins as standins

RED, BLUE, GREEN, WHITE, GREY = (0, 0, 255), (255, 0, 0), (0, 255, 0), (255, 255, 255), (128, 128, 128)  # BGR


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("insightface")
    standins.write_pack(root)
    return root


@pytest.fixture(scope="module")
def backend(home: Path) -> InsightFaceBackend:
    return build_insightface_backend(home=home, pack="buffalo_l")


def solid(colour: tuple[int, int, int], height: int = 600, width: int = 800) -> np.ndarray:
    return np.full((height, width, 3), colour, np.uint8)


def with_blobs(colour: tuple[int, int, int], scale: float) -> np.ndarray:
    """A black 1280x960 image with a blob at each stand-in face's anchor centre (detector scale ``scale``)."""
    image = np.zeros((960, 1280, 3), np.uint8)
    for face in standins.STANDIN_FACES:
        cx, cy = (round(c / scale) for c in face.centre)
        image[cy - 8 : cy + 8, cx - 8 : cx + 8] = colour
    return image


def ibug68_from_five(points: np.ndarray) -> np.ndarray:
    """68 landmarks whose eye means, nose tip and mouth corners are exactly ``points``."""
    landmarks = np.zeros((68, 2), np.float32)
    landmarks[36:42] = points[0]
    landmarks[42:48] = points[1]
    landmarks[30] = points[2]
    landmarks[48] = points[3]
    landmarks[54] = points[4]
    # Spread the rest around the face so the landmarks' extent is a plausible face box.
    landmarks[0] = points[0] - (40, 0)
    landmarks[16] = points[1] + (40, 0)
    landmarks[8] = (points[3] + points[4]) / 2 + (0, 40)
    return landmarks


def test_the_backend_satisfies_the_shared_backend_protocol(backend: InsightFaceBackend) -> None:
    assert isinstance(backend, Backend)
    assert backend.name == "insightface"
    assert backend.embedding_size == 512


def test_every_result_can_name_the_pack_and_each_model_file(backend: InsightFaceBackend) -> None:
    versions = dict(backend.versions)
    assert versions["pack"] == "buffalo_l"
    for name in ("det_10g.onnx", "w600k_r50.onnx", "1k3d68.onnx", "genderage.onnx", "liveness.onnx"):
        assert versions[name].startswith("sha256:")
    # A stand-in is not the published addon, and the version says so.
    assert versions["liveness.onnx"].endswith("(unverified)")


def test_it_finds_faces_largest_first_in_original_image_coordinates(backend: InsightFaceBackend) -> None:
    # 1280x960 is letterboxed into 640x640 at scale 0.5: boxes and keypoints must come back scaled up.
    image = with_blobs(RED, scale=0.5)
    found = backend.detect_with_keypoints(image)
    assert [d.box for d, _ in found] == [
        tuple(round(v) for v in standins.LARGE_FACE.box(0.5)),
        tuple(round(v) for v in standins.SMALL_FACE.box(0.5)),
    ]
    assert found[0][0].score == pytest.approx((255 - 127.5) / 128)
    np.testing.assert_allclose(found[0][1], standins.LARGE_FACE.keypoints(0.5), atol=0.01)
    np.testing.assert_allclose(found[1][1], standins.SMALL_FACE.keypoints(0.5), atol=0.01)
    assert backend.detect(image[:, :, 0], image) == [d for d, _ in found]


def test_it_feeds_the_detector_rgb_with_the_mean_subtracted(backend: InsightFaceBackend) -> None:
    # The stand-in scores a face by the normalised *red* value under its anchor.
    assert backend.detect(np.zeros((960, 1280), np.uint8), with_blobs(BLUE, scale=0.5)) == []  # BGR fed as-is
    assert backend.detect(np.zeros((960, 1280), np.uint8), with_blobs(GREY, scale=0.5)) == []  # no mean subtracted
    assert backend.detect(np.zeros((960, 1280), np.uint8), np.zeros((960, 1280, 3), np.uint8)) == []


def test_a_grey_image_alone_is_expanded_to_colour_for_the_detector(backend: InsightFaceBackend) -> None:
    gray = with_blobs(WHITE, scale=0.5)[:, :, 0]
    assert len(backend.detect(gray)) == 2


def test_landmarks_come_from_a_crop_of_one_and_a_half_times_the_box(backend: InsightFaceBackend) -> None:
    box = (300, 200, 500, 400)  # centre (400, 300); the 192x192 crop spans 1.5 x 200 = 300 px
    points = standins.standin_landmark_points()
    for colour in (GREY, RED, BLUE):
        image = solid(colour)
        blue_shift = (colour[0] - 127.5) / 128  # the stand-in moves every x by the crop's mean normalised blue
        expected = np.column_stack([400 + (points[:, 0] + blue_shift) * 150, 300 + points[:, 1] * 150])
        got = backend.landmarks(image[:, :, 0], box, image)
        assert got.shape == (68, 2)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, expected, atol=0.05)


def test_the_embedding_sees_the_face_aligned_upright_and_unmirrored(backend: InsightFaceBackend) -> None:
    # Five points at twice ArcFace's template, offset by (100, 50): the aligned crop is exactly
    # image[50:274:2, 100:324:2], whose quadrants meet at (212, 162).
    five = standins.ARCFACE_TEMPLATE * 2 + np.array([100, 50], np.float32)
    image = np.zeros((400, 500, 3), np.uint8)
    image[:162, :212], image[:162, 212:] = RED, BLUE
    image[162:, :212], image[162:, 212:] = GREEN, WHITE
    embedding = backend.embedding(image, ibug68_from_five(five))
    expected = standins.arcface_quadrant_vector(
        {"top_left": (255, 0, 0), "top_right": (0, 0, 255), "bottom_left": (0, 255, 0), "bottom_right": (255,) * 3}
    )
    assert embedding.shape == (512,)
    assert embedding.dtype == np.float32
    assert float(np.linalg.norm(embedding)) == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(embedding, expected, atol=2e-3)


def test_similarity_is_a_clipped_cosine_with_insightfaces_default_threshold(backend: InsightFaceBackend) -> None:
    a = np.zeros(512, np.float32)
    a[0] = 1.0
    b = np.zeros(512, np.float32)
    b[:2] = (0.6, 0.8)
    assert backend.similarity(a, a) == pytest.approx(1.0)
    assert backend.similarity(a, b) == pytest.approx(0.6)
    assert backend.similarity(a, -a) == 0.0
    assert backend.similarity(a, np.zeros(512, np.float32)) == 0.0
    assert backend.match_threshold == pytest.approx(0.40)


@pytest.mark.parametrize(
    ("colour", "gender", "age"),
    [
        # male logit = normalised red; age / 100 = 0.30 + 0.10 x normalised blue
        ((0, 128, 255), "Male", 30 - 10 * 127.5 / 128),
        ((255, 128, 0), "Female", 30 + 10 * 127.5 / 128),
    ],
)
def test_age_and_gender_parse_the_genderage_outputs(
    backend: InsightFaceBackend, colour: tuple[int, int, int], gender: str, age: float
) -> None:
    landmarks = ibug68_from_five(standins.ARCFACE_TEMPLATE * 2 + np.array([290, 190], np.float32))
    estimate = backend.age_gender(solid(colour), landmarks, box=(300, 200, 500, 420))
    assert estimate.gender == gender
    assert estimate.age == pytest.approx(age, abs=0.01)
    logit = (255 - 127.5) / 128
    assert estimate.gender_confidence == pytest.approx(1 / (1 + np.exp(-2 * logit)), abs=1e-4)
    assert 0 < estimate.age_confidence <= 1
    assert estimate.age_margin > 0
    # Without the detector's box the landmarks' extent is used, on the same crop contract.
    assert backend.age_gender(solid(colour), landmarks).gender == gender


def test_the_liveness_addon_scores_the_aligned_rgb_crop(backend: InsightFaceBackend) -> None:
    landmarks = ibug68_from_five(standins.ARCFACE_TEMPLATE + np.array([344, 244], np.float32))
    # The stand-in's live probability is the crop's mean red in [0, 1]: 204 / 255 = 0.8.
    assert backend.antispoof(solid((0, 0, 204)), (330, 230, 470, 380), landmarks) == pytest.approx(0.8, abs=1e-4)
    assert backend.antispoof(solid((204, 0, 0)), (330, 230, 470, 380), landmarks) == pytest.approx(0.0, abs=1e-4)


def test_the_liveness_threshold_is_the_addons_own() -> None:
    from insightface.addons.liveness import DEFAULT_THRESHOLD

    assert InsightFaceBackend.antispoof_threshold == DEFAULT_THRESHOLD


def test_the_liveness_addon_gives_no_score_for_a_face_at_the_frames_edge(backend: InsightFaceBackend) -> None:
    landmarks = ibug68_from_five(standins.ARCFACE_TEMPLATE + np.array([-50, -40], np.float32))
    assert backend.antispoof(solid((0, 0, 204)), (0, 0, 60, 80), landmarks) is None


def test_the_liveness_addon_finds_its_own_landmarks_from_a_box(backend: InsightFaceBackend) -> None:
    score = backend.antispoof(solid((0, 0, 204)), (300, 200, 500, 400))
    assert score == pytest.approx(0.8, abs=1e-3)


@pytest.mark.parametrize(
    ("remove", "named"),
    [
        ("models/buffalo_l/det_10g.onnx", "det_*.onnx"),
        ("models/buffalo_l/w600k_r50.onnx", "w600k_*.onnx"),
        ("models/buffalo_l/1k3d68.onnx", "1k3d68.onnx"),
        ("models/buffalo_l/genderage.onnx", "genderage.onnx"),
        ("addons/liveness.onnx", "liveness.onnx"),
    ],
)
def test_a_missing_file_names_the_file_and_the_command_that_installs_it(
    home: Path, tmp_path: Path, remove: str, named: str
) -> None:
    shutil.copytree(home, tmp_path / "home")
    (tmp_path / "home" / remove).unlink()
    with pytest.raises(ModelFilesMissing) as caught:
        build_insightface_backend(home=tmp_path / "home", pack="buffalo_l")
    message = str(caught.value)
    assert str(tmp_path / "home" / Path(remove).parent / named) in message
    assert "python manage.py install_insightface_pack" in message
    assert ("--liveness" if named == "liveness.onnx" else "--zip") in message
    assert not insightface_available(tmp_path / "home", "buffalo_l")


def test_it_is_available_only_when_every_file_of_the_configured_pack_is_present(home: Path, tmp_path: Path) -> None:
    assert insightface_available(home, "buffalo_l")
    assert not insightface_available(home, "buffalo_s")  # another pack is not installed
    assert not insightface_available(tmp_path, "buffalo_l")  # an empty home
    assert not insightface_available(tmp_path / "nowhere", "buffalo_l")
    assert not insightface_available(None, "buffalo_l")


@pytest.mark.parametrize("shape", [(1, 1), (1, 4096), (4096, 1), (2, 3), (3, 4000)])
def test_odd_image_shapes_give_answers_not_crashes(backend: InsightFaceBackend, shape: tuple[int, int]) -> None:
    image = np.full((*shape, 3), 200, np.uint8)
    assert isinstance(backend.detect(image[:, :, 0], image), list)
    landmarks = backend.landmarks(image[:, :, 0], (0, 0, 0, 0), image)  # even a zero-sized box
    assert np.isfinite(landmarks).all()
    assert backend.embedding(image, landmarks).shape == (512,)
    assert backend.age_gender(image, landmarks).gender in ("Male", "Female")


def test_non_finite_landmarks_give_answers_not_crashes(backend: InsightFaceBackend) -> None:
    image = solid(GREY, 100, 100)
    landmarks = np.full((68, 2), np.nan, np.float32)
    assert np.isfinite(backend.embedding(image, landmarks)).all()
    assert backend.antispoof(image, (0, 0, 10, 10), landmarks) is None
    assert backend.age_gender(image, landmarks).gender in ("Male", "Female")
    collapsed = np.zeros((68, 2), np.float32)
    assert backend.embedding(image, collapsed).shape == (512,)
