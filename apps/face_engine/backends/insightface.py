"""The InsightFace model backend: an InsightFace pack plus the RGB liveness addon, run with onnxruntime.

Files are read from ``<home>/models/<pack>/`` (the layout insightface itself
uses) and ``<home>/addons/liveness.onnx``. Nothing is downloaded here: a
missing file raises ``ModelFilesMissing`` naming the file and the command
that installs it (``python manage.py install_insightface_pack``).

Models and what each one answers (insightface 2.1 ``model_zoo`` classes, each
loaded by path with a CPU session we configure):

* ``det_*.onnx`` (SCRFD): face boxes and five keypoints, on a letterboxed
  ``det_size`` input (RGB, (x - 127.5) / 128).
* ``1k3d68.onnx``: 68 landmarks in dlib's iBUG 300-W order, on a 192x192 crop
  of 1.5x the box. ``2d106det.onnx`` (also in the packs) is *not* used: its 106
  points have no published point-by-point correspondence to the iBUG layout
  that every measure in the pipeline reads, and a guessed mapping would
  silently break eye and mouth measures.
* ``w600k_*.onnx`` (ArcFace): a 512-d embedding of the 112x112 crop aligned on
  five points taken from the 68 landmarks.
* ``genderage.onnx``: gender logits and age / 100 on a 96x96 crop of 1.5x the box.
* ``addons/liveness.onnx``: a live probability of an 80x80 crop aligned on the
  same five points (``insightface.addons.Liveness``).

This module is pure Python (no Django); ``insightface`` itself is imported
only when a backend is built, so ``insightface_available`` stays cheap.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
import numpy.typing as npt

from ..types import ModelFilesMissing
from .base import AgeGenderEstimate, BgrImage, Box, Detection, GrayImage, Landmarks

INSTALL_COMMAND = "python manage.py install_insightface_pack"
PACK_URL_BASE = "https://github.com/deepinsight/insightface/releases/download/model-zoo/"
LIVENESS_URL = "https://github.com/deepinsight/insightface-model-addons/releases/download/addons/liveness.onnx"
LIVENESS_FILE = "liveness.onnx"

# InsightFace's own default cosine threshold for "same person" (its GUI's
# DEFAULT_THRESHOLD). It cannot be tuned here: no weights exist on these machines.
MATCH_THRESHOLD = 0.40
EMBEDDING_SIZE = 512
# genderage gives no uncertainty; these are conservative fixed figures (see docs/insightface.md ("Age and gender")).
AGE_CONFIDENCE = 0.6
AGE_MARGIN_YEARS = 8.0
# insightface's own live-score threshold for the addon (``addons.liveness.DEFAULT_THRESHOLD``).
ANTISPOOF_THRESHOLD = 0.8


@dataclass(frozen=True)
class _Role:
    key: str
    pattern: str
    description: str


# The pack files this backend needs, by role (pattern is a glob inside the pack directory).
PACK_ROLES: tuple[_Role, ...] = (
    _Role("detector", "det_*.onnx", "SCRFD face detector"),
    _Role("recognition", "w600k_*.onnx", "ArcFace recognition model"),
    _Role("landmarks", "1k3d68.onnx", "68-point landmark model"),
    _Role("genderage", "genderage.onnx", "gender and age model"),
)


@dataclass(frozen=True)
class InsightFaceFiles:
    """The resolved path of every file the backend loads."""

    pack: str
    detector: Path
    recognition: Path
    landmarks: Path
    genderage: Path
    liveness: Path


def _pack_missing(home: Path, pack: str, role: _Role) -> ModelFilesMissing:
    return ModelFilesMissing(
        f"InsightFace model file missing: {home / 'models' / pack / role.pattern} ({role.description} of pack "
        f"{pack}). Install the pack with `{INSTALL_COMMAND} --zip /path/to/{pack}.zip --pack {pack}` "
        f"(or `--url {PACK_URL_BASE}{pack}.zip` on a machine with internet), or set FACE_ENGINE=dlib."
    )


def _liveness_missing(home: Path) -> ModelFilesMissing:
    return ModelFilesMissing(
        f"InsightFace model file missing: {home / 'addons' / LIVENESS_FILE} (RGB liveness addon). Install it with "
        f"`{INSTALL_COMMAND} --liveness /path/to/{LIVENESS_FILE}` (or `--liveness-url {LIVENESS_URL}`), "
        "or set FACE_ENGINE=dlib."
    )


def insightface_model_files(home: str | Path, pack: str) -> InsightFaceFiles:
    """Resolve every file the backend needs; raise ``ModelFilesMissing`` naming the first one absent.

    When a glob matches several files (a hand-assembled directory), the
    name-sorted last one is used, as insightface does.
    """
    root = Path(home)
    pack_dir = root / "models" / pack
    found: dict[str, Path] = {}
    for role in PACK_ROLES:
        matches = sorted(p for p in pack_dir.glob(role.pattern) if p.is_file())
        if not matches:
            raise _pack_missing(root, pack, role)
        found[role.key] = matches[-1]
    liveness = root / "addons" / LIVENESS_FILE
    if not liveness.is_file():
        raise _liveness_missing(root)
    return InsightFaceFiles(pack=pack, liveness=liveness, **found)


def insightface_available(home: str | Path | None, pack: str) -> bool:
    """Whether every InsightFace file is present (no model is loaded; used by ``auto`` engine selection)."""
    if not home:
        return False
    try:
        insightface_model_files(home, pack)
    except ModelFilesMissing:
        return False
    return True


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def five_points(landmarks: Landmarks) -> npt.NDArray[np.float32]:
    """ArcFace's five points (image-left eye, image-right eye, nose tip, mouth corners) from iBUG-68."""
    lm = np.asarray(landmarks, dtype=np.float32)
    return np.stack(
        [lm[36:42].mean(axis=0), lm[42:48].mean(axis=0), lm[30], lm[48], lm[54]],
    ).astype(np.float32)


def _arcface_crop(bgr: BgrImage, points: npt.NDArray[np.float32], size: int) -> BgrImage:
    """insightface's ``face_align.norm_crop``, without scikit-image's deprecated ``estimate`` call."""
    # insightface (~3 s to import) and scikit-image load only in a process that runs this backend.
    from insightface.utils.face_align import arcface_dst
    from skimage.transform import SimilarityTransform

    destination = arcface_dst * (size / 112.0)
    # Degenerate or non-finite landmarks give no transform: crop something rather than crash.
    matrix = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    if np.all(np.isfinite(points)):
        try:
            if hasattr(SimilarityTransform, "from_estimate"):
                transform = SimilarityTransform.from_estimate(points, destination)
                if transform:
                    matrix = np.asarray(transform.params[:2, :], dtype=np.float64)
            else:  # scikit-image < 0.26
                transform = SimilarityTransform()
                if transform.estimate(points, destination):
                    matrix = np.asarray(transform.params[:2, :], dtype=np.float64)
        except (ValueError, np.linalg.LinAlgError):
            pass
    if not np.all(np.isfinite(matrix)):
        matrix = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    return cv2.warpAffine(bgr, matrix, (size, size), borderValue=0.0)


def _as_bgr(gray: GrayImage | None, bgr: BgrImage | None) -> BgrImage:
    if bgr is not None:
        return bgr
    if gray is None:
        raise ValueError("an image is required")
    return cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)


def _softmax2(a: float, b: float) -> tuple[float, float]:
    m = max(a, b)
    ea, eb = math.exp(a - m), math.exp(b - m)
    return ea / (ea + eb), eb / (ea + eb)


class InsightFaceBackend:
    """The ``insightface`` backend (see ``base.Backend``). Build it with ``build_insightface_backend``."""

    name: Literal["insightface"] = "insightface"
    match_threshold: float = MATCH_THRESHOLD
    embedding_size: int = EMBEDDING_SIZE
    has_antispoof: bool = True  # the liveness addon is a required file of the pack
    open_eye_ratio = 0.2  # mapped to the 68-point layout like dlib's
    # Below this the addon itself calls a face not live; the pipeline may use it instead of a generic 0.5.
    antispoof_threshold: float = ANTISPOOF_THRESHOLD

    def __init__(
        self,
        *,
        files: InsightFaceFiles,
        det_size: tuple[int, int] = (640, 640),
        det_threshold: float = 0.5,
        threads: int = 1,
    ) -> None:
        # The model libraries load with the first backend built, never for insightface_available (see above).
        import onnxruntime as ort
        from insightface.addons.catalog import ADDON_CATALOG
        from insightface.addons.liveness import Liveness
        from insightface.model_zoo.arcface_onnx import ArcFaceONNX
        from insightface.model_zoo.attribute import Attribute
        from insightface.model_zoo.landmark import Landmark
        from insightface.model_zoo.scrfd import SCRFD

        def session(path: Path) -> Any:
            options = ort.SessionOptions()
            # One thread per model call: the service runs one analysis per core.
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])

        self.files = files
        self.det_size = det_size
        self._detector = SCRFD(model_file=str(files.detector), session=session(files.detector))
        self._detector.prepare(-1, input_size=det_size, det_thresh=det_threshold)
        self._landmarker = Landmark(model_file=str(files.landmarks), session=session(files.landmarks))
        if self._landmarker.lmk_num != 68:
            raise ModelFilesMissing(
                f"{files.landmarks} is not a 68-point landmark model; reinstall the pack with `{INSTALL_COMMAND}`."
            )
        self._recognizer = ArcFaceONNX(model_file=str(files.recognition), session=session(files.recognition))
        self._genderage = Attribute(model_file=str(files.genderage), session=session(files.genderage))
        self._liveness = Liveness(files.liveness, session=session(files.liveness))
        # SCRFD keeps a per-size session cache; onnxruntime sessions themselves are thread-safe.
        self._detect_lock = threading.Lock()

        digests = {
            path.name: _sha256(path)
            for path in (files.detector, files.recognition, files.landmarks, files.genderage, files.liveness)
        }
        official = ADDON_CATALOG["liveness"].sha256
        versions: dict[str, str] = {"pack": files.pack}
        for file_name, digest in digests.items():
            versions[file_name] = f"sha256:{digest[:16]}"
        versions[LIVENESS_FILE] += " (official)" if digests[LIVENESS_FILE] == official else " (unverified)"
        self.versions: Mapping[str, str] = versions

    # --- detection and landmarks -------------------------------------------------------------

    def detect_with_keypoints(self, bgr: BgrImage) -> list[tuple[Detection, npt.NDArray[np.float32] | None]]:
        """Faces with SCRFD's five keypoints (image-left eye first), largest first."""
        height, width = bgr.shape[:2]
        fit = min(self.det_size[0] / max(width, 1), self.det_size[1] / max(height, 1))
        if int(width * fit) < 1 or int(height * fit) < 1:
            return []  # a sliver (e.g. 1x4096) letterboxes to nothing: no face fits in it
        with self._detect_lock:
            det, kpss = self._detector.detect(bgr, input_size=self.det_size)
        found = []
        for i in range(det.shape[0]):
            x1, y1, x2, y2, score = (float(v) for v in det[i])
            box = (
                max(0, round(x1)),
                max(0, round(y1)),
                min(width, round(x2)),
                min(height, round(y2)),
            )
            if box[2] <= box[0] or box[3] <= box[1]:
                continue
            kps = None if kpss is None else np.asarray(kpss[i], dtype=np.float32)
            found.append((Detection(box=box, score=score), kps))
        found.sort(key=lambda item: (item[0].box[2] - item[0].box[0]) * (item[0].box[3] - item[0].box[1]), reverse=True)
        return found

    def detect(self, gray: GrayImage, bgr: BgrImage | None = None) -> list[Detection]:
        """All faces, largest first. SCRFD needs colour; a grey image is expanded to three channels."""
        return [detection for detection, _ in self.detect_with_keypoints(_as_bgr(gray, bgr))]

    def landmarks(self, gray: GrayImage, box: Box, bgr: BgrImage | None = None) -> Landmarks:
        """68 iBUG-ordered landmarks from ``1k3d68`` on a 192x192 crop of 1.5x the box."""
        from insightface.app.common import Face  # already loaded by __init__; kept out of the module's import

        left, top, right, bottom = (float(v) for v in box)
        # A zero-sized box would divide by zero in the crop scale; one pixel is the least face there is.
        face = Face(bbox=np.array([left, top, max(right, left + 1), max(bottom, top + 1)], dtype=np.float32))
        points = self._landmarker.get(_as_bgr(gray, bgr), face)
        return np.ascontiguousarray(points[:, :2], dtype=np.float32)

    # --- identity --------------------------------------------------------------------------------

    def embedding(self, bgr: BgrImage, landmarks: Landmarks) -> npt.NDArray[np.float32]:
        """L2-normalised 512-d ArcFace embedding of the 112x112 crop aligned on five landmark points."""
        crop = _arcface_crop(bgr, five_points(landmarks), self._recognizer.input_size[0])
        vector = np.asarray(self._recognizer.get_feat(crop), dtype=np.float32).reshape(-1)
        norm = float(np.linalg.norm(vector))
        if not math.isfinite(norm) or norm == 0.0:
            return np.zeros(vector.shape, dtype=np.float32)
        return (vector / norm).astype(np.float32)

    def similarity(self, a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> float:
        """Cosine similarity clipped to [0, 1]: ArcFace puts different people near 0, never reliably below."""
        va = np.asarray(a, dtype=np.float64).reshape(-1)
        vb = np.asarray(b, dtype=np.float64).reshape(-1)
        denominator = float(np.linalg.norm(va) * np.linalg.norm(vb))
        if va.shape != vb.shape or denominator == 0.0 or not math.isfinite(denominator):
            return 0.0
        return float(min(1.0, max(0.0, float(va @ vb) / denominator)))

    # --- attributes ------------------------------------------------------------------------------

    def age_gender(self, bgr: BgrImage, landmarks: Landmarks, box: Box | None = None) -> AgeGenderEstimate:
        """Age and gender from ``genderage`` on a 96x96 crop of 1.5x the face box.

        Same crop and normalisation as insightface's ``Attribute.get``, but the
        raw outputs are kept: gender confidence is the softmax of the two
        gender logits, and age is not rounded. The model was trained on crops
        of the *detector's* box: pass it as ``box`` when known; otherwise the
        landmarks' extent is used, which is a little tighter.
        """
        from insightface.utils import face_align  # already loaded by __init__; kept out of the module's import

        model = self._genderage
        lm = np.asarray(landmarks, dtype=np.float32)
        if box is not None:
            x1, y1, x2, y2 = (float(v) for v in box)
        elif np.all(np.isfinite(lm)):
            x1, y1 = (float(v) for v in lm.min(axis=0))
            x2, y2 = (float(v) for v in lm.max(axis=0))
        else:  # no usable geometry: the whole image
            x1, y1, x2, y2 = 0.0, 0.0, float(bgr.shape[1]), float(bgr.shape[0])
        size = model.input_size[0]
        scale = size / (max(x2 - x1, y2 - y1, 1.0) * 1.5)
        crop, _ = face_align.transform(bgr, ((x1 + x2) / 2, (y1 + y2) / 2), size, scale, 0)
        blob = cv2.dnn.blobFromImage(crop, 1.0 / model.input_std, (size, size), (model.input_mean,) * 3, swapRB=True)
        pred = np.asarray(model.session.run(model.output_names, {model.input_name: blob})[0][0], dtype=np.float64)
        female, male = _softmax2(float(pred[0]), float(pred[1]))
        age = float(min(100.0, max(0.0, pred[2] * 100.0)))
        gender: Literal["Male", "Female"] = "Male" if male >= female else "Female"
        return AgeGenderEstimate(
            age=age,
            age_confidence=AGE_CONFIDENCE,
            gender=gender,
            gender_confidence=max(female, male),
            age_margin=AGE_MARGIN_YEARS,
        )

    def antispoof(self, bgr: BgrImage, box: Box, landmarks: Landmarks | None = None) -> float | None:
        """The liveness addon's live probability in [0, 1] (1 = live).

        The addon aligns on five points: pass the face's 68 ``landmarks`` when
        known, otherwise they are computed from ``box``. Returns None when the
        addon refuses the crop (more than 30 % of it falls outside the image:
        the face is at the frame's edge) or cannot align on the landmarks, so
        that no score is reported rather than a made-up one; the pipeline's
        face-position check covers that case.
        """
        if landmarks is None:
            landmarks = self.landmarks(None, box, bgr)  # type: ignore[arg-type]
        try:
            result = self._liveness.predict(bgr, five_points(landmarks))
        except (ValueError, RuntimeError):
            return None  # landmarks the addon cannot align on (degenerate or non-finite)
        if result.get("status") != "ok":
            return None
        return float(result["live_score"])


def build_insightface_backend(
    *,
    home: str | Path,
    pack: str = "buffalo_l",
    det_size: tuple[int, int] = (640, 640),
    det_threshold: float = 0.5,
    threads: int = 1,
) -> InsightFaceBackend:
    """Load the pack and the liveness addon from ``home``; ``ModelFilesMissing`` names any absent file."""
    files = insightface_model_files(home, pack)
    return InsightFaceBackend(files=files, det_size=det_size, det_threshold=det_threshold, threads=threads)
