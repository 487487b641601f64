"""Engine outputs of a set of clips, recorded to a file and compared with another recording.

    .venv/bin/python bench/outputs.py record DIR OUT.pkl [--engine mediapipe] [--clips 12]
    .venv/bin/python bench/outputs.py compare A.pkl B.pkl

For a change meant to make the engine faster without changing what it says:
record with the code before the change, record again after, compare. DIR is
a data set as ``manage.py evaluate`` reads it (``manifest.json`` and a folder
of JPEG frames per clip; ``bench/worlds.py build`` writes them for both test
worlds). Each clip runs as a session drives it (``capture_replay``: state as
JSON between frames, key frames embedded, then the verdict); what is kept:

* every landmark/mesh call's points and face presence, and every detector
  call's boxes and scores;
* every frame's result (feedback, challenge, progress, face count) and the
  state after it (as data: the same state written another way compares equal);
* the verdict (verdict, confidence, scores, reasons, challenge outcomes).

``compare`` prints the largest landmark difference in pixels and every
difference in detections, frame results, states and verdicts; it exits 1
when the landmarks differ by more than ``--tolerance`` pixels (default 1e-3:
float rounding, far below the landmark noise of about 0.5 px) or anything
else differs at all.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _frames(clip: Any) -> Iterator[tuple[float, bytes]]:
    from apps.face_engine.video import read_capture

    yield from read_capture(clip.path, fps=clip.fps)


def record(directory: Path, engine_name: str, limit: int | None) -> dict[str, Any]:
    from apps.core.capture_replay import capture_replay
    from apps.core.evaluation import manifest_load
    from apps.face_engine.factory import build_engine
    from apps.face_engine.types import EngineSettings

    engine = build_engine(EngineSettings(engine=engine_name))  # type: ignore[arg-type]
    backend: Any = engine.backend  # type: ignore[attr-defined]
    calls: list[Any] = []
    for name in ("mesh", "landmarks", "detect"):
        if hasattr(backend, name):
            inner = getattr(backend, name)

            def recorded(*args: Any, _inner: Any = inner, _name: str = name, **kwargs: Any) -> Any:
                out = _inner(*args, **kwargs)
                calls.append((_name, _plain(out)))
                return out

            setattr(backend, name, recorded)  # the instance's attribute: the engine calls through it
    analyze = engine.analyze_frame
    frames_out: list[Any] = []

    def analyze_recorded(state: Any, frame: bytes, t: float) -> Any:
        result = analyze(state, frame, t)
        fields = {k: v for k, v in vars(result).items() if k != "state"}
        frames_out.append((fields, _state(result.state.to_json())))
        return result

    engine.analyze_frame = analyze_recorded  # type: ignore[method-assign]
    out: dict[str, Any] = {}
    for clip in manifest_load(directory)[:limit]:
        calls.clear()
        frames_out.clear()
        verdict = capture_replay(engine=engine, plan=clip.plan, frames=_frames(clip)).verdict
        out[clip.name] = {
            "calls": list(calls),
            "frames": list(frames_out),
            "verdict": (verdict.verdict, verdict.confidence, dict(verdict.scores), verdict.reasons,
                        dict(verdict.challenge_outcomes), verdict.total_face_count),
        }  # fmt: skip
        print(f"{clip.name}: {len(calls)} model calls, {len(frames_out)} frames -> {verdict.verdict}", file=sys.stderr)
    return out


def _state(text: str) -> dict[str, Any]:
    """A state JSON as data, its stored landmark sets as lists of floats however they were written."""
    from apps.face_engine.state import CaptureData

    data = json.loads(text)
    data.pop("v", None)
    data["pts"] = CaptureData.from_json(text).pts
    return dict(data)


def _plain(value: Any) -> Any:
    """Arrays and model results as plain data (``Mesh`` -> (points, presence), ``Detection`` -> tuple)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "_asdict"):
        return tuple(_plain(v) for v in value)
    if hasattr(value, "__dataclass_fields__"):
        return tuple(_plain(getattr(value, f)) for f in value.__dataclass_fields__)
    return value


def _arrays(value: Any) -> list[np.ndarray]:
    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, (list, tuple)):
        return [a for v in value for a in _arrays(v)]
    return []


def _rest(value: Any) -> Any:
    """``value`` with its arrays left out (compared apart, with a tolerance)."""
    if isinstance(value, np.ndarray):
        return value.shape
    if isinstance(value, (list, tuple)):
        return tuple(_rest(v) for v in value)
    return value


def compare(a: dict[str, Any], b: dict[str, Any], tolerance: float) -> int:
    worst, problems, points = 0.0, [], 0
    for name in sorted(set(a) | set(b)):
        if name not in a or name not in b:
            problems.append(f"{name}: in one recording only")
            continue
        ca, cb = a[name]["calls"], b[name]["calls"]
        if [c[0] for c in ca] != [c[0] for c in cb]:
            problems.append(f"{name}: model calls differ ({len(ca)} vs {len(cb)})")
        for i, (x, y) in enumerate(zip(ca, cb, strict=False)):
            if _rest(x) != _rest(y):
                problems.append(f"{name}: call {i} ({x[0]}) differs: {_rest(x)} vs {_rest(y)}")
            for u, v in zip(_arrays(x), _arrays(y), strict=False):
                points += u.size
                worst = max(worst, float(np.abs(u.astype(np.float64) - v).max()) if u.size else 0.0)
        fa, fb = a[name]["frames"], b[name]["frames"]
        for i, (x, y) in enumerate(zip(fa, fb, strict=False)):
            if x != y:
                problems.append(f"{name}: frame {i} result or state differs")
                break
        if len(fa) != len(fb):
            problems.append(f"{name}: {len(fa)} vs {len(fb)} frames")
        if a[name]["verdict"] != b[name]["verdict"]:
            problems.append(f"{name}: verdict {a[name]['verdict']} vs {b[name]['verdict']}")
    print(f"clips {len(a)}; values compared {points}; largest landmark difference {worst:.3g} px")
    for p in problems:
        print(p)
    bad = bool(problems) or worst > tolerance
    print("DIFFERENT" if bad else "identical (within tolerance)")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record")
    rec.add_argument("directory", type=Path)
    rec.add_argument("out", type=Path)
    rec.add_argument("--engine", default="mediapipe")
    rec.add_argument("--clips", type=int, default=None, help="only the first N clips of the manifest")
    cmp_ = sub.add_parser("compare")
    cmp_.add_argument("a", type=Path)
    cmp_.add_argument("b", type=Path)
    cmp_.add_argument("--tolerance", type=float, default=1e-3)
    args = parser.parse_args(argv)
    if args.command == "record":
        args.out.write_bytes(pickle.dumps(record(args.directory, args.engine, args.clips)))
        return 0
    return compare(pickle.loads(args.a.read_bytes()), pickle.loads(args.b.read_bytes()), args.tolerance)


if __name__ == "__main__":
    raise SystemExit(main())
