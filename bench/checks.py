"""Continuous-check benchmark: the engine's CPU per sample of the SDK's headless mode, and what it allows.

    .venv/bin/python bench/checks.py [--samples 30] [--engine dlib]

Each sample of a watched session (docs/websocket.md, "Continuous checks") costs a frames worker one
``faces_in_image`` (decode, detection on the whole 640x480 frame, one embedding per face) and one comparison
per face with the enrolled face. Input: synthetic 640x480 frames of ``tests/face_engine/synthetic.py``
(quality 88, like the SDK's), one person and two people side by side. Times are the thread's CPU time on
one core. From the one-face p95 it derives how many sessions one core can watch at the SDK's default
interval (2 s). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from apps.face_engine.factory import build_engine
from apps.face_engine.types import EngineSettings

INTERVAL_S = 2.0


def _frames(samples: int) -> dict[str, list[bytes]]:
    from tests.face_engine import synthetic

    one = synthetic.passive_sequence("astronaut", samples / 10, fps=10, size=(640, 480), seed=1)
    other = synthetic.passive_sequence("t1_3", samples / 10, fps=10, size=(640, 480), seed=2)
    pairs = [np.ascontiguousarray(np.hstack([a[:, 160:480], b[:, 160:480]])) for a, b in zip(one, other, strict=True)]
    return {
        "one face": [synthetic.encode_jpeg(f, 88) for f in one],
        "two faces": [synthetic.encode_jpeg(f, 88) for f in pairs],
    }


def _percentiles(values: list[float]) -> dict[str, float]:
    return {"p50": round(float(np.percentile(values, 50)), 1), "p95": round(float(np.percentile(values, 95)), 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--engine", default="dlib", choices=["dlib", "insightface"])
    parser.add_argument("--insightface-home", default=os.environ.get("INSIGHTFACE_HOME"))
    args = parser.parse_args(argv)
    engine = build_engine(EngineSettings(engine=args.engine, insightface_home=args.insightface_home))
    frames = _frames(args.samples)
    enrolled = tuple(engine.faces_in_image(frames["one face"][0])[0].embedding)  # also the warm-up
    print(f"engine={engine.name} samples={args.samples} size=640x480 cpu={platform.processor() or platform.machine()}")
    figures: dict[str, object] = {"engine": engine.name}
    for name, jpegs in frames.items():
        spent: list[float] = []
        counts = []
        for jpeg in jpegs:
            start = time.thread_time()
            faces = engine.faces_in_image(jpeg)
            for face in faces:
                engine.compare(tuple(face.embedding), enrolled)
            spent.append((time.thread_time() - start) * 1000)
            counts.append(len(faces))
        found = round(float(np.mean([c == (1 if name == "one face" else 2) for c in counts])), 3)
        figures[name] = {**_percentiles(spent), "facesFoundAsExpected": found}
        print(
            f"{name:>9}: p50 {figures[name]['p50']:6.1f} ms  p95 {figures[name]['p95']:6.1f} ms  "  # type: ignore[index]
            f"(right face count in {found:.0%} of samples)"
        )
    p95 = figures["one face"]["p95"]  # type: ignore[index]
    per_core = int(INTERVAL_S * 1000 // p95)
    figures["sessionsPerCoreAt2s"] = per_core
    print(f"one core checks {per_core} watched sessions at one sample every {INTERVAL_S:.0f} s (one-face p95)")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
