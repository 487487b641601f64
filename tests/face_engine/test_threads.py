"""The dlib backend is safe to share between threads, as the embedded default does.

Without its locks, dlib's HOG detector run from four threads at once segfaults
within a few hundred calls. The check runs in a child process so such a crash
fails this test instead of killing the test run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# A child process loads the models and runs the detector 320 times from four threads.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]

_CHILD = """
import threading
import cv2
import numpy as np
import skimage.data

from apps.face_engine.backends.dlib import DlibBackend

backend = DlibBackend()
bgr = cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR)
gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
box = backend.detect(gray)[0].box
marks = backend.landmarks(gray, box)
reference = backend.embedding(bgr, marks)
shifted = [np.ascontiguousarray(gray[shift:, :]) for shift in range(9)]
expected = [backend.detect(image) for image in shifted]  # one thread: the answers to match
wrong = []

def work(worker):
    for i in range(80):
        shift = (i + worker) % 9
        if backend.detect(shifted[shift]) != expected[shift]:
            wrong.append(("detect", worker, i))
        if i % 15 == 0 and float(np.linalg.norm(backend.embedding(bgr, marks) - reference)) > 1e-4:
            wrong.append(("embedding", worker, i))

threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print("wrong", wrong)
raise SystemExit(1 if wrong else 0)
"""


def test_four_threads_share_one_dlib_backend_without_crashing_or_mixing_results():
    child = subprocess.run([sys.executable, "-c", _CHILD], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert child.returncode == 0, f"exit {child.returncode}: {child.stdout[-2000:]} {child.stderr[-2000:]}"
