"""Passive holds at the hosted page's 10 fps, per person, on the offline engines side by side.

    .venv/bin/python bench/passive_blinks.py [--seeds 20-29] [--engines dlib,mediapipe]

Each clip is a 4 s passive hold of one of the seven people the synthetic generator knows (the astronaut and
the six of InsightFace's ``t1.jpg``) with one natural blink at 1.3 s, sway and sensor noise, made by
``tests/face_engine/synthetic.py`` (world A's generator, the one the MediaPipe thresholds were chosen on:
these figures compare the engines, they are not a held-out error rate) and JPEG-encoded at quality 88. Every
clip runs through each engine as a capture does: frames in order until the engine says the capture is
complete, then its decision. It prints passes per person and engine and ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from apps.face_engine.factory import build_engine
from apps.face_engine.types import CapturePlan, EngineSettings, FaceEngine
from tests.face_engine import synthetic

PEOPLE = ("astronaut", "t1_0", "t1_1", "t1_2", "t1_3", "t1_4", "t1_5")
FPS = 10  # the hosted page's rate (CAPTURE_MAX_FPS)


def verdict_of(engine: FaceEngine, jpegs: list[bytes]) -> str:
    state = engine.new_capture(CapturePlan(mode="passive"))
    for i, jpeg in enumerate(jpegs):
        result = engine.analyze_frame(state, jpeg, i / FPS)
        state = result.state
        if result.capture_complete:
            break
    verdict = engine.decide(state)
    return f"{verdict.verdict}/{'+'.join(str(r) for r in verdict.reasons) or '-'}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="20-29", help="a range FIRST-LAST of generator seeds")
    parser.add_argument("--engines", default="dlib,mediapipe")
    args = parser.parse_args()
    first, last = (int(x) for x in args.seeds.split("-"))
    names = args.engines.split(",")
    engines = {name: build_engine(EngineSettings(engine=name)) for name in names}  # type: ignore[arg-type]
    passes = {name: dict.fromkeys(PEOPLE, 0) for name in names}
    refused: dict[str, list[str]] = {name: [] for name in names}
    for person in PEOPLE:
        for seed in range(first, last + 1):
            frames = synthetic.passive_sequence(person, 4.0, fps=FPS, seed=seed, blink_at_s=1.3)
            jpegs = [synthetic.encode_jpeg(frame, 88) for frame in frames]
            for name, engine in engines.items():
                outcome = verdict_of(engine, jpegs)
                passes[name][person] += outcome.startswith("pass/")
                if not outcome.startswith("pass/"):
                    refused[name].append(f"{person}:{seed}:{outcome}")
        row = "  ".join(f"{name} {passes[name][person]}/{last - first + 1}" for name in names)
        print(f"{person:<10} {row}", flush=True)
    clips = len(PEOPLE) * (last - first + 1)
    totals = {name: sum(passes[name].values()) for name in names}
    print("all        " + "  ".join(f"{name} {totals[name]}/{clips}" for name in names))
    print(json.dumps({"clips": clips, "fps": FPS, "passes": totals, "byPerson": passes, "refused": refused}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
