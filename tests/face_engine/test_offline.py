"""Nothing is downloaded at run time: the engine loads and runs with every network call refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# A child process loads the models and analyses a clip on its own.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]

_CHILD = """
import socket

attempts = []

def refuse(self, address, *args, **kwargs):
    attempts.append(address)
    raise OSError("network refused by the test")

socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = lambda address, *a, **k: refuse(None, address)

from apps.face_engine.factory import build_engine
from apps.face_engine.types import EngineSettings
from tests.face_engine.synth_capture import passive_clip, run_capture

engine = build_engine(EngineSettings(engine=ENGINE))
verdict = run_capture(engine, passive_clip(seconds=3.5), mode="passive").verdict
print("verdict", verdict.verdict, "age", verdict.age_gender is not None, "network", attempts)
raise SystemExit(1 if attempts else 0)
"""


@pytest.mark.parametrize("engine", ["dlib", "mediapipe"])
def test_each_offline_engine_loads_and_decides_with_the_network_refused(engine: str):
    code = _CHILD.replace("ENGINE", repr(engine))
    child = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert child.returncode == 0, child.stdout[-2000:] + child.stderr[-2000:]
    assert "verdict pass age True network []" in child.stdout
