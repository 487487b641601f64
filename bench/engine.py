"""Face-engine benchmark: per-stage median/p95 ms, fps per core, pipeline/raw ratio, passive capture CPU.

    .venv/bin/python bench/engine.py [--frames 90] [--engines dlib,mediapipe] [--face astronaut]

Each engine named is measured in turn on the same frames, then one table puts
them side by side with the ratio of the last to the first (by default
MediaPipe / dlib).

Input: a synthetic 640x480 live clip made from ``skimage.data.astronaut()``
(``--face``: another of the synthetic generator's people, e.g. ``t1_0``, whose head rests tilted)
by ``tests/face_engine/synthetic.py`` (micro-motion, a blink, sensor noise),
JPEG-encoded at quality 88 like the hosted page's frames. Everything runs in
this one process on one core; times are the thread's CPU time, so other load
on the machine inflates them less than wall time (the tracked frame is also
given in wall time). A *tracked* frame is one that follows the face from the
last frame without a detector call (9 frames in 10). The state's JSON round
trip, which a worker adds around every frame, is timed apart. The run prints
the load average, since a shared machine's load inflates every figure. The
last line is one JSON object for machines.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2
import numpy as np

from apps.face_engine.decode import decode_image
from apps.face_engine.factory import build_engine
from apps.face_engine.icao import icao_photo
from apps.face_engine.measures import face_measures
from apps.face_engine.pipeline import Engine
from apps.face_engine.state import CaptureData
from apps.face_engine.types import CapturePlan, CaptureState, EngineSettings

FPS = 15


def _clip(frames: int, face: str = "astronaut") -> list[bytes]:
    from tests.face_engine import synthetic

    rgb = synthetic.passive_sequence(face, frames / FPS, fps=FPS, size=(640, 480), blink_at_s=1.3)
    return [synthetic.encode_jpeg(f, 88) for f in rgb]


class _TimingBackend:
    """The real backend, adding up the CPU time of the model calls a frame makes, and counting detections."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.spent = 0.0
        self.detections = 0

    def __getattr__(self, name: str) -> object:
        attr = getattr(self.inner, name)
        if name not in ("detect", "landmarks", "mesh"):
            return attr

        def timed(*args: object, **kwargs: object) -> object:
            self.detections += name == "detect"
            t = time.thread_time()
            try:
                return attr(*args, **kwargs)  # type: ignore[operator]
            finally:
                self.spent += (time.thread_time() - t) * 1000

        return timed


def _timed(fn: Callable[[], object], repeat: int = 1) -> list[float]:
    """CPU milliseconds of this thread: other processes on a shared machine do not inflate them."""
    out = []
    for _ in range(repeat):
        t = time.thread_time()
        fn()
        out.append((time.thread_time() - t) * 1000)
    return out


def _stats(ms: list[float]) -> tuple[float, float]:
    return float(np.median(ms)), float(np.percentile(ms, 95))


def _measure(engine: Engine, jpegs: list[bytes]) -> dict[str, Any]:
    """Every figure of one engine on these frames (printed as it goes)."""
    backend = engine.backend
    print(f"\nengine={engine.name} frames={len(jpegs)} size=640x480 versions={dict(engine.versions)}")

    # Warm-up: first calls allocate buffers and page in the model weights.
    first = decode_image(jpegs[0])
    assert first.bgr is not None
    box = engine._detect(first.gray)[0]
    pts = backend.landmarks(first.gray, box)
    backend.embedding(first.bgr, pts)
    backend.age_gender(first.bgr, pts)

    stages: dict[str, list[float]] = {k: [] for k in ("decode", "detect", "track+landmarks", "measures")}
    grays = []
    for jpeg in jpegs:
        stages["decode"] += _timed(lambda j=jpeg: grays.append(decode_image(j, color=False).gray))
    for gray in grays:
        stages["detect"] += _timed(lambda g=gray: engine._detect(g))
        stages["track+landmarks"] += _timed(lambda g=gray: backend.landmarks(g, box))
        p = backend.landmarks(gray, box)
        stages["measures"] += _timed(lambda p=p: face_measures(p))
    n_heavy = 10
    stages["embedding"] = _timed(lambda: backend.embedding(first.bgr, pts), n_heavy)
    stages["age/gender"] = _timed(lambda: backend.age_gender(first.bgr, pts), n_heavy)
    stages["icao"] = _timed(lambda: icao_photo(first.bgr, pts, face_measures(pts)), n_heavy)

    # The whole per-frame analysis with tracking (detection only when lost or every N frames), and
    # the raw model calls that same frame made (its decode, detector and landmark calls). A tracked
    # frame is one without a detector call; CPU is this thread's time, wall the clock's.
    timing = _TimingBackend(backend)
    timed_engine = Engine(timing, engine.settings)  # type: ignore[arg-type]
    frame_ms: list[float] = []
    tracked_cpu: list[float] = []
    tracked_wall: list[float] = []
    state_ms: list[float] = []
    apart_ms: list[float] = []  # the same with the JPEGs stored apart (what a worker does since the blob change)
    sizes = (0, 0)
    ratios: list[float] = []
    state = timed_engine.new_capture(CapturePlan(mode="active", challenges=("turn_left",)))
    for i, jpeg in enumerate(jpegs):
        timing.spent, timing.detections = 0.0, 0
        w, t = time.perf_counter(), time.thread_time()
        state = timed_engine.analyze_frame(state, jpeg, i / FPS).state
        whole, wall = (time.thread_time() - t) * 1000, (time.perf_counter() - w) * 1000
        frame_ms.append(whole)
        if not timing.detections:
            tracked_cpu.append(whole)
            tracked_wall.append(wall)
        ratios.append(whole / (stages["decode"][i] + timing.spent))
        # What a worker adds around each frame: the state from JSON and back (not in the frame's time), with
        # every JPEG inline as before, and with the JPEGs as references (their bytes are stored once, apart).
        t = time.thread_time()
        inline = state.to_json()
        loaded = timed_engine.load_capture(inline)
        state_ms.append((time.thread_time() - t) * 1000)
        t = time.thread_time()
        apart = state.to_json(blobs={})
        timed_engine.load_capture(apart)
        apart_ms.append((time.thread_time() - t) * 1000)
        sizes, state = (len(inline), len(apart)), loaded

    # A whole 3 s passive capture at 15 fps as a worker runs it: state through JSON between frames, then decide().
    cpu0 = time.process_time()
    state = engine.new_capture(CapturePlan(mode="passive"))
    frames_used = 0
    for i, jpeg in enumerate(jpegs[:45]):
        result = engine.analyze_frame(engine.load_capture(state.to_json()), jpeg, i / FPS)
        state = result.state
        frames_used += 1
    verdict = engine.decide(state)
    passive_cpu = time.process_time() - cpu0
    decide_kept, decide_again = _decide_cpu(engine, state, n_heavy)

    print(f"{'stage (CPU)':<18}{'median ms':>10}{'p95 ms':>10}")
    for name, ms in stages.items():
        med, p95 = _stats(ms)
        print(f"{name:<18}{med:>10.2f}{p95:>10.2f}")
    f_med, f_p95 = _stats(frame_ms)
    t_med, t_p95 = _stats(tracked_cpu)
    w_med, w_p95 = _stats(tracked_wall)
    print(f"{'tracked frame':<18}{t_med:>10.2f}{t_p95:>10.2f}   ({len(tracked_cpu)} frames without a detection)")
    print(f"{'tracked frame wall':<18}{w_med:>10.2f}{w_p95:>10.2f}   (clock time, inflated by the other load)")
    print(f"{'any frame':<18}{f_med:>10.2f}{f_p95:>10.2f}   (every 10th re-detects)")
    last = f"{state_ms[-1]:.2f} ms at frame {len(jpegs)}"
    print(f"state JSON round trip per frame: median {np.median(state_ms):.2f} ms, {last}")
    print(
        f"  with the JPEGs stored apart: median {np.median(apart_ms):.2f} ms, {apart_ms[-1]:.2f} ms at the last frame;"
        f" state {sizes[0] / 1000:.0f} KB -> {sizes[1] / 1000:.0f} KB"
    )
    ratio = float(np.median(ratios))
    print(f"fps per core (median tracked frame): {1000 / t_med:.0f}")
    print(f"pipeline / raw ratio (median over frames of whole frame / its decode + model calls): {ratio:.2f}")
    print(
        f"passive capture ({frames_used} frames, 3 s at {FPS} fps, JSON state round trips, decide): "
        f"{passive_cpu:.3f} s CPU -> {verdict.verdict}"
    )
    print(
        f"its decide() as a session runs it (key frames embedded apart but the last): "
        f"{np.median(decide_kept):.2f} ms CPU median with the landmarks the frames kept, "
        f"{np.median(decide_again):.2f} ms finding the face in each JPEG again "
        f"(ratio {np.median(decide_kept) / np.median(decide_again):.2f})"
    )
    return {
        "engine": engine.name,
        "tracked_ms_median": round(t_med, 2),
        "tracked_ms_p95": round(t_p95, 2),
        "tracked_wall_ms_median": round(w_med, 2),
        "tracked_wall_ms_p95": round(w_p95, 2),
        "frame_ms_median": round(f_med, 2),
        "frame_ms_p95": round(f_p95, 2),
        "state_json_ms_median": round(float(np.median(state_ms)), 2),
        "state_json_ms_last": round(state_ms[-1], 2),
        "state_json_apart_ms_median": round(float(np.median(apart_ms)), 2),
        "state_json_apart_ms_last": round(apart_ms[-1], 2),
        "state_kb_last": round(sizes[0] / 1000, 1),
        "state_apart_kb_last": round(sizes[1] / 1000, 1),
        "fps_per_core": round(1000 / t_med, 1),
        "passive_capture_cpu_s": round(passive_cpu, 3),
        "decide_ms_median": round(float(np.median(decide_kept)), 2),
        "decide_found_again_ms_median": round(float(np.median(decide_again)), 2),
        "passive_verdict": verdict.verdict,
        "pipeline_over_raw_ratio": round(ratio, 2),
        "stages_ms_median": {k: round(_stats(v)[0], 2) for k, v in stages.items()},
    }


def _decide_cpu(engine: Engine, state: CaptureState, repeat: int) -> tuple[list[float], list[float]]:
    """CPU ms of the verdict of a finished capture as the session flow runs it (its key frames embedded apart
    while it ran, but the one the completing frame kept, which the verdict embeds): with the landmarks each kept
    frame carries, and with them left out, so that the face is found in each JPEG again (what every verdict did
    before, and still does for a state kept by an earlier version)."""
    pending = engine.key_frames_pending(state)
    found = {p.t: engine.embed_key_frame(p.jpeg, p.box, p.points) for p in pending[:-1]}
    ready = CaptureData.from_json(engine.with_key_embeddings(state, {t: e for t, e in found.items() if e}).to_json())
    again = CaptureData.from_json(ready.to_json())
    for kept in (again.best, *again.keys):
        if kept is not None:
            kept.points = kept.measures = None
    return _timed(lambda: engine.decide(ready), repeat), _timed(lambda: engine.decide(again), repeat)


def _side_by_side(results: list[dict[str, Any]]) -> None:
    first, last = results[0], results[-1]
    names = [r["engine"] for r in results]
    head = "".join(f"{n:>12}" for n in names)
    ratio_name = f"{last['engine']}/{first['engine']}" if len(results) > 1 else ""
    print(f"\n{'ms (CPU unless wall)':<20}{head}{ratio_name:>20}")
    rows = [
        ("tracked frame", "tracked_ms_median"),
        ("tracked frame p95", "tracked_ms_p95"),
        ("tracked, wall", "tracked_wall_ms_median"),
        ("tracked, wall p95", "tracked_wall_ms_p95"),
        ("any frame p95", "frame_ms_p95"),
        ("state JSON", "state_json_ms_median"),
        ("state JSON apart", "state_json_apart_ms_median"),
        ("decide", "decide_ms_median"),
        ("decide, face again", "decide_found_again_ms_median"),
    ]
    rows += [(stage, stage) for stage in first["stages_ms_median"]]
    for label, key in rows:
        values = [r[key] if key in r else r["stages_ms_median"][key] for r in results]
        ratio = f"{values[-1] / values[0]:.2f}" if len(results) > 1 and values[0] else ""
        print(f"{label:<20}" + "".join(f"{v:>12.2f}" for v in values) + f"{ratio:>20}")
    passive = "".join(f"{r['passive_capture_cpu_s']:>12.3f}" for r in results)
    print(f"{'passive capture s':<20}{passive}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=90)
    parser.add_argument("--engines", default="dlib,mediapipe", help="comma-separated: dlib, mediapipe, insightface")
    parser.add_argument("--insightface-home", default=os.environ.get("INSIGHTFACE_HOME"))
    parser.add_argument("--face", default="astronaut", help="the synthetic person: astronaut, t1_0 ... t1_5")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.engines.split(",") if n.strip()]
    jpegs = _clip(max(args.frames, 45), args.face)
    loads_before = [round(v, 1) for v in os.getloadavg()]
    results = []
    for name in names:
        engine = build_engine(EngineSettings(engine=name, insightface_home=args.insightface_home))  # type: ignore[arg-type]
        assert isinstance(engine, Engine)
        results.append(_measure(engine, jpegs))
    _side_by_side(results)
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = [round(v, 1) for v in os.getloadavg()]
    print(
        f"machine: {cpu}, {os.cpu_count()} CPUs; load average now {load[0]} (1 min), {load[1]} (5 min), "
        f"{loads_before[0]} when the run started: other work on the machine inflates every figure"
    )
    summary: dict[str, Any] = {
        "cpu": cpu,
        "face": args.face,
        "opencv": cv2.__version__,
        "loadavg_start": loads_before,
        "loadavg_end": load,
        "engines": results,
    }
    if len(results) > 1:
        summary["tracked_ms_ratio"] = round(results[-1]["tracked_ms_median"] / results[0]["tracked_ms_median"], 2)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
