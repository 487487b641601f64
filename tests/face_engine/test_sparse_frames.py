"""A waved print delivered the way a busy browser delivers it: a few frames a second, the camera looping.

A loaded page or worker analyses only some of the camera's frames, so consecutive
analysed frames can be half a second apart and the face far from where the
tracker last saw it. The landmark model starts from that old box; its points
were then off by part of an eye, and on a printed photo that read as a blink
(a pass in a passive hold: the project's CI saw one in the browser, 2 of 24
simulated captures here). Three changes stop it: the tracker fits the points
again where they say the face is (``tracking.REFIT_SHIFT``), a blink needs the
skull to hold still since the frame before (``MeasureRow.skull_step``), and
eyes that look closed must not look open to a second fit from a fresh
detection (``progress.second_look``).
"""

from __future__ import annotations

import pytest

from apps.face_engine.types import CapturePlan, FaceEngine
from tests.face_engine import synthetic

CAMERA_FPS = 10  # what the browser tests' fake camera plays (tests/sessions/test_browser.py)
LIMIT_S = 25.0


def _looped_capture(engine: FaceEngine, jpegs: list[bytes], *, every_s: float, start_s: float):
    state = engine.new_capture(CapturePlan(mode="passive", challenges=()))
    t = 0.0
    while t < LIMIT_S:
        index = round((start_s + t) * CAMERA_FPS) % len(jpegs)
        result = engine.analyze_frame(state, jpegs[index], t)
        state = result.state
        if result.capture_complete:
            break
        t += every_s
    return engine.decide(state)


@pytest.fixture(scope="module")
def looping_print() -> list[bytes]:
    frames = synthetic.attack_sequence("print_moved", seconds=8, fps=CAMERA_FPS)
    return [synthetic.encode_jpeg(f, 85) for f in frames]  # the page's JPEG quality


@pytest.mark.slow
@pytest.mark.parametrize("every_s", [0.5, 0.17])
def test_a_waved_print_seen_a_few_times_a_second_never_passes(
    each_engine: FaceEngine, looping_print: list[bytes], every_s: float
) -> None:
    verdicts = [_looped_capture(each_engine, looping_print, every_s=every_s, start_s=start / 2) for start in range(16)]
    passed = [(start / 2, v.reasons, v.scores) for start, v in enumerate(verdicts) if v.verdict == "pass"]
    assert passed == []
