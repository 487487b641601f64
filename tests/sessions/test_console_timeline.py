"""The signal timeline of a real capture (the real engine on synthetic webcam frames), drawn as SVG on the server."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET

import cv2
import numpy as np
import pytest

from apps.face_engine import planar
from apps.face_engine.timeline import THUMB_HEIGHT, capture_thumbnails, capture_timeline
from apps.face_engine.types import CapturePlan
from apps.sessions.admin.charts import timeline_svg

from .synthetic_clips import FPS, clips

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def capture(real_engine):
    """An active capture (blink, then turn left) as the frame service drives it, with its per-frame log."""
    engine = real_engine
    state = engine.new_capture(CapturePlan(mode="active", challenges=("blink", "turn_left")))
    log, t = [], 0.0
    script = clips()["hold"] + clips()["blink"] + clips()["hold"][:5] + clips()["turn_left"] + clips()["hold"]
    for jpeg in script:
        result = engine.analyze_frame(state, jpeg, t)
        state = result.state
        log.append([round(t, 3), result.face_count, list(result.feedback), result.current_challenge])
        t += 1 / FPS
        if result.capture_complete:
            break
    assert result.capture_complete
    return state, log


def test_the_timeline_holds_every_measure_the_parallax_and_each_challenge(capture):
    state, _ = capture
    timeline = capture_timeline(state)
    series = timeline.series
    assert {"t", "yaw_ratio", "pitch_ratio", "eye_open", "mouth_open"} <= set(series)
    assert all(len(values) == len(series["t"]) for values in series.values())
    assert min(series["eye_open"]) < 0.7 * max(series["eye_open"])  # the blink shows
    assert [(o.name, o.passed) for o in timeline.outcomes] == [("blink", True), ("turn_left", True)]
    assert len(timeline.parallax["t"]) > 5 and max(timeline.parallax["homography"]) > 0


def test_the_timeline_plots_the_verdicts_landmark_fits_without_redoing_them(capture, real_engine, monkeypatch):
    """The verdict fits each kept frame's rigid points to the baseline (the planar check, and the noise floor from
    the still frames); the attempt's timeline plots the same fits. Each fit is an OpenCV solve, and the verdict
    is on the user's wait: a pair already fitted is not fitted again, and its remembered value is the value."""
    state = copy.deepcopy(capture[0])
    fits: list[int] = []
    fit = cv2.estimateAffinePartial2D
    monkeypatch.setattr(cv2, "estimateAffinePartial2D", lambda *a, **k: fits.append(1) or fit(*a, **k))
    planar._remembered_residual.cache_clear()
    real_engine.decide(state)
    by_the_verdict = len(fits)
    kept = len(state.pts)
    assert kept >= 10 and by_the_verdict >= kept // 2  # the kept frames fitted (identical point sets once)
    timeline = capture_timeline(state)
    assert len(fits) == by_the_verdict  # nothing fitted twice
    assert len(timeline.parallax["similarity"]) == kept
    planar._remembered_residual.cache_clear()
    assert capture_timeline(state).parallax == timeline.parallax  # fitted afresh: the same figures
    assert len(fits) > by_the_verdict


def test_the_svg_draws_the_series_prompts_answers_and_quality(capture):
    state, log = capture
    svg = timeline_svg({**capture_timeline(state).to_json(), "frames": log}, title="attempt 1")
    root = ET.fromstring(svg)  # a well-formed SVG document
    assert root.tag.endswith("svg")
    text = " ".join(t for t in root.itertext())
    labels = ["yaw ratio", "eye open", "mouth open", "parallax residual (homography)", "quality (page feedback)"]
    labels += ["prompt: blink", "prompt: turn_left", "blink passed", "turn_left passed", "head pose (ratio)"]
    for label in labels:
        assert label in text, label
    assert b"<script" not in svg


def test_thumbnails_are_small_jpegs_of_the_kept_frames(capture):
    state, _ = capture
    thumbs = capture_thumbnails(state)
    assert thumbs and {th.kind for th in thumbs} <= {"best", "key"} and "best" in {th.kind for th in thumbs}
    for thumb in thumbs:
        image = cv2.imdecode(np.frombuffer(thumb.jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert image is not None and image.shape[0] <= THUMB_HEIGHT and len(thumb.jpeg) < 12_000
