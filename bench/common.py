"""What the benchmarks that start the production processes share: ports, processes, CPU time, percentiles."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return round(ordered[index], 1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """A process in its own process group (``stop`` ends the group), output to ``log``."""
    handle = log.open("wb")
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def group_cpu(groups: set[int]) -> float:
    """CPU seconds of every live process in ``groups`` plus what their exited, reaped children used."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        if int(fields[2]) in groups:  # pgrp
            total += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return total / ticks


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def replay_decided(directory: str, name: str) -> tuple[Any, Any, Any, Any]:
    """Clip ``name`` of data set ``directory`` replayed as ``manage.py evaluate`` runs it, on MediaPipe.

    Returns the clip, the replay, the engine and the capture state its verdict was decided on.
    """
    from apps.core.capture_replay import capture_replay
    from apps.core.evaluation import manifest_load
    from apps.face_engine import pipeline
    from apps.face_engine.factory import build_engine
    from apps.face_engine.types import EngineSettings
    from apps.face_engine.video import read_capture

    clip = next(c for c in manifest_load(Path(directory)) if c.name == name)
    engine = build_engine(EngineSettings(engine="mediapipe"))
    decided: list[Any] = []
    decide = engine.decide

    def decide_recorded(state: Any) -> Any:
        decided.append(state)
        return decide(state)

    engine.decide = decide_recorded  # type: ignore[method-assign]
    replay = capture_replay(engine=engine, plan=clip.plan, frames=read_capture(clip.path, fps=clip.fps))
    return clip, replay, engine, pipeline._capture_data(decided[-1])
