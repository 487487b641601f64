"""Tiny stand-in ONNX models with the input/output shapes of an InsightFace pack.

No InsightFace weights exist on these machines, so the tests build graphs that
have the real models' tensor shapes and output layouts but compute something a
test can predict exactly from the pixels it draws:

* ``det_10g.onnx`` (SCRFD, 9 outputs: scores, boxes, keypoints for strides 8,
  16 and 32 with two anchors per cell): each stand-in face is one anchor whose
  score is the normalised *red* value of the pixel at the anchor centre, with
  fixed box and keypoint distances. A red blob there "is" a face; grey, blue or
  black is not. This catches a wrong colour order (BGR fed as-is), a missing
  mean subtraction, and wrong letterbox scaling or box/keypoint decoding.
* ``w600k_r50.onnx`` (ArcFace, 112x112 -> 512): the mean of each colour channel
  in each quadrant of the aligned crop, in the first 12 dimensions. This catches
  a wrong alignment (mirrored or off-face crop), colour order or normalisation.
* ``1k3d68.onnx`` (192x192 -> 3309 = 1103 x 3, the last 68 rows are the
  iBUG-68 landmarks in [-1, 1] crop coordinates): fixed points, shifted in x
  by the crop's mean normalised *blue* value (blue, so that a scene's red,
  which the liveness stand-in scores, does not move the landmarks).
* ``genderage.onnx`` (96x96 -> 3): gender logits ``[-R, R]`` (female, male) and
  ``age / 100 = 0.30 + 0.10 * B`` from the crop's mean normalised red and blue.
* ``addons/liveness.onnx`` (80x80 RGB/255 -> [N] live probability): the crop's
  mean red value in [0, 1].

Each helper returns what a test needs to predict the backend's output.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
DET_SIZE = 640
STRIDES = (8, 16, 32)
ANCHORS = 2

# ArcFace's five-point template in the 112x112 crop (the same numbers insightface uses).
ARCFACE_TEMPLATE = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float32,
)


@dataclass(frozen=True)
class StandinFace:
    """One face the stand-in detector reports, in the 640x640 detector input."""

    stride: int
    col: int
    row: int
    distances: tuple[float, float, float, float]  # left, top, right, bottom in stride units
    kps: tuple[tuple[float, float], ...]  # five (dx, dy) keypoint offsets in stride units

    @property
    def anchor_index(self) -> int:
        cells = DET_SIZE // self.stride
        return (self.row * cells + self.col) * ANCHORS

    @property
    def centre(self) -> tuple[int, int]:
        return self.col * self.stride, self.row * self.stride

    def box(self, scale: float = 1.0) -> tuple[float, float, float, float]:
        """The box in the original image when the detector input was scaled by ``scale``."""
        cx, cy = self.centre
        left, top, right, bottom = (d * self.stride for d in self.distances)
        return ((cx - left) / scale, (cy - top) / scale, (cx + right) / scale, (cy + bottom) / scale)

    def keypoints(self, scale: float = 1.0) -> np.ndarray:
        cx, cy = self.centre
        return np.array([((cx + dx * self.stride) / scale, (cy + dy * self.stride) / scale) for dx, dy in self.kps])


# Two faces: a large one (stride 32) and a small one (stride 16).
LARGE_FACE = StandinFace(
    stride=32,
    col=10,
    row=8,
    distances=(3.0, 3.0, 3.0, 3.0),
    kps=((-1.0, -1.0), (1.0, -1.0), (0.0, 0.0), (-0.8, 1.2), (0.8, 1.2)),
)
SMALL_FACE = StandinFace(
    stride=16,
    col=8,
    row=6,
    distances=(2.0, 2.0, 2.0, 2.0),
    kps=((-0.7, -0.7), (0.7, -0.7), (0.0, 0.0), (-0.5, 0.9), (0.5, 0.9)),
)
STANDIN_FACES = (LARGE_FACE, SMALL_FACE)


def _const(name: str, array: np.ndarray) -> onnx.NodeProto:
    return helper.make_node(
        "Constant", [], [name], name=f"standin_const_{name}", value=numpy_helper.from_array(array, name)
    )


def _save(graph: onnx.GraphProto, path: Path) -> Path:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="liveproof-standin")
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def write_detector(path: Path, faces: tuple[StandinFace, ...] = STANDIN_FACES) -> Path:
    """An SCRFD-shaped detector (fixed 640x640 input, 9 outputs) reporting ``faces``."""
    nodes: list[onnx.NodeProto] = []
    outputs: dict[str, list[onnx.ValueInfoProto]] = {"score": [], "bbox": [], "kps": []}
    for stride in STRIDES:
        count = (DET_SIZE // stride) ** 2 * ANCHORS
        here = [f for f in faces if f.stride == stride]
        bbox = np.zeros((count, 4), np.float32)
        kps = np.zeros((count, 10), np.float32)
        score_terms = []
        for i, face in enumerate(here):
            bbox[face.anchor_index] = face.distances
            kps[face.anchor_index] = np.array(face.kps, np.float32).reshape(-1)
            onehot = np.zeros((count, 1), np.float32)
            onehot[face.anchor_index] = 1.0
            cx, cy = face.centre
            tag = f"{stride}_{i}"
            nodes += [
                _const(f"starts_{tag}", np.array([0, 0, cy, cx], np.int64)),
                _const(f"ends_{tag}", np.array([1, 1, cy + 1, cx + 1], np.int64)),
                helper.make_node(
                    "Slice", ["input.1", f"starts_{tag}", f"ends_{tag}"], [f"pix_{tag}"], name=f"sl_{tag}"
                ),
                _const(f"shape11_{tag}", np.array([1, 1], np.int64)),
                helper.make_node("Reshape", [f"pix_{tag}", f"shape11_{tag}"], [f"pix2_{tag}"], name=f"rs_{tag}"),
                helper.make_node("Relu", [f"pix2_{tag}"], [f"gate_{tag}"], name=f"relu_{tag}"),
                _const(f"onehot_{tag}", onehot),
                helper.make_node("Mul", [f"onehot_{tag}", f"gate_{tag}"], [f"term_{tag}"], name=f"standin_mul_{tag}"),
            ]
            score_terms.append(f"term_{tag}")
        score_name = f"score_{stride}"
        if score_terms:
            nodes.append(helper.make_node("Sum", score_terms, [score_name], name=f"sum_{stride}"))
        else:
            nodes.append(_const(score_name, np.zeros((count, 1), np.float32)))
        nodes.append(_const(f"bbox_{stride}", bbox))
        nodes.append(_const(f"kps_{stride}", kps))
        outputs["score"].append(helper.make_tensor_value_info(score_name, TensorProto.FLOAT, [count, 1]))
        outputs["bbox"].append(helper.make_tensor_value_info(f"bbox_{stride}", TensorProto.FLOAT, [count, 4]))
        outputs["kps"].append(helper.make_tensor_value_info(f"kps_{stride}", TensorProto.FLOAT, [count, 10]))
    graph = helper.make_graph(
        nodes,
        "standin_scrfd",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, DET_SIZE, DET_SIZE])],
        outputs["score"] + outputs["bbox"] + outputs["kps"],
    )
    return _save(graph, path)


def write_recognition(path: Path) -> Path:
    """ArcFace-shaped: [N,3,112,112] -> [N,512]; dims 0..11 = per-quadrant channel means."""
    weights = np.zeros((12, 512), np.float32)
    weights[np.arange(12), np.arange(12)] = 1.0
    nodes = [
        helper.make_node(
            "AveragePool", ["input.1"], ["pooled"], name="standin_pool", kernel_shape=[56, 56], strides=[56, 56]
        ),
        helper.make_node("Flatten", ["pooled"], ["flat"], name="standin_flatten", axis=1),
        _const("proj", weights),
        helper.make_node("MatMul", ["flat", "proj"], ["683"], name="standin_project"),
    ]
    graph = helper.make_graph(
        nodes,
        "standin_arcface",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, ["None", 3, 112, 112])],
        [helper.make_tensor_value_info("683", TensorProto.FLOAT, ["None", 512])],
    )
    return _save(graph, path)


def arcface_quadrant_vector(quadrant_rgb: dict[str, tuple[int, int, int]]) -> np.ndarray:
    """The stand-in embedding (L2-normalised) for an aligned crop whose quadrants have these RGB colours.

    Layout after AveragePool [N,3,2,2] -> Flatten: channel-major, then row, then column.
    """
    order = ("top_left", "top_right", "bottom_left", "bottom_right")
    vec = np.zeros(512, np.float32)
    for channel in range(3):
        for q, name in enumerate(order):
            vec[channel * 4 + q] = (quadrant_rgb[name][channel] - 127.5) / 127.5
    return vec / np.linalg.norm(vec)


def standin_landmark_points() -> np.ndarray:
    """The 68 fixed points (x, y) in [-1, 1] crop coordinates the landmark stand-in reports.

    insightface's own mean iBUG-68 face shape (``meanshape_68.pkl``), so the
    points form a plausible face that the addon and ArcFace can align on.
    """
    from insightface.data import get_object

    return (np.asarray(get_object("meanshape_68.pkl"), np.float32)[:, :2] * 0.9).astype(np.float32)


def write_landmarks_3d68(path: Path) -> Path:
    """1k3d68-shaped: [1,3,192,192] -> [1,3309]; the last 68 (x,y,z) rows are the landmarks.

    x of every landmark is shifted by the crop's mean normalised blue value, so
    the test sees whether the crop it was fed had the colour it expected.
    """
    base = np.zeros((1103, 3), np.float32)
    base[-68:, :2] = standin_landmark_points()
    base[-68:, 2] = 0.1
    shift = np.zeros((1103, 3), np.float32)
    shift[-68:, 0] = 1.0
    weights = np.zeros((3, 3309), np.float32)
    weights[2] = shift.reshape(-1)  # RGB input: channel 2 is blue
    nodes = [
        helper.make_node("GlobalAveragePool", ["data"], ["gap"], name="standin_gap"),
        helper.make_node("Flatten", ["gap"], ["flat"], name="standin_flatten", axis=1),
        _const("w", weights),
        helper.make_node("MatMul", ["flat", "w"], ["proj"], name="standin_project"),
        _const("base", base.reshape(1, -1)),
        helper.make_node("Add", ["proj", "base"], ["fc1"], name="standin_add"),
    ]
    graph = helper.make_graph(
        nodes,
        "standin_1k3d68",
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, [1, 3, 192, 192])],
        [helper.make_tensor_value_info("fc1", TensorProto.FLOAT, [1, 3309])],
    )
    return _save(graph, path)


def write_genderage(path: Path) -> Path:
    """genderage-shaped: [1,3,96,96] -> [1,3] = (female logit, male logit, age/100)."""
    weights = np.array([[-1.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.1]], np.float32)
    bias = np.array([[0.0, 0.0, 0.30]], np.float32)
    nodes = [
        helper.make_node("GlobalAveragePool", ["data"], ["gap"], name="standin_gap"),
        helper.make_node("Flatten", ["gap"], ["flat"], name="standin_flatten", axis=1),
        _const("w", weights),
        helper.make_node("MatMul", ["flat", "w"], ["proj"], name="standin_project"),
        _const("b", bias),
        helper.make_node("Add", ["proj", "b"], ["fc1"], name="standin_add"),
    ]
    graph = helper.make_graph(
        nodes,
        "standin_genderage",
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, [1, 3, 96, 96])],
        [helper.make_tensor_value_info("fc1", TensorProto.FLOAT, [1, 3])],
    )
    return _save(graph, path)


def write_liveness(path: Path) -> Path:
    """liveness-shaped: [N,3,80,80] RGB/255 -> [N] live probability = mean red of the aligned crop."""
    nodes = [
        helper.make_node("GlobalAveragePool", ["input"], ["gap"], name="standin_gap"),
        helper.make_node("Flatten", ["gap"], ["flat"], name="standin_flatten", axis=1),
        _const("w", np.array([[1.0], [0.0], [0.0]], np.float32)),
        helper.make_node("MatMul", ["flat", "w"], ["proj"], name="standin_project"),
        _const("shape", np.array([-1], np.int64)),
        helper.make_node("Reshape", ["proj", "shape"], ["live"], name="standin_reshape"),
    ]
    graph = helper.make_graph(
        nodes,
        "standin_liveness",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 80, 80])],
        [helper.make_tensor_value_info("live", TensorProto.FLOAT, ["N"])],
    )
    return _save(graph, path)


PACK_FILES = {
    "det_10g.onnx": write_detector,
    "w600k_r50.onnx": write_recognition,
    "1k3d68.onnx": write_landmarks_3d68,
    "genderage.onnx": write_genderage,
}


def write_pack(home: Path, pack: str = "buffalo_l", *, liveness: bool = True) -> Path:
    """A complete stand-in pack under ``home/models/<pack>/`` (and the addon under ``home/addons/``)."""
    pack_dir = home / "models" / pack
    for name, writer in PACK_FILES.items():
        writer(pack_dir / name)
    if liveness:
        write_liveness(home / "addons" / "liveness.onnx")
    return pack_dir
