"""Per-frame measures and the tracker, on synthetic frames made from a real face (astronaut())."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from apps.face_engine.backends.base import MeshBackend
from apps.face_engine.measures import FaceMeasures, Quality, face_measures
from apps.face_engine.pipeline import Engine
from apps.face_engine.types import CapturePlan, EngineSettings
from tests.face_engine import synthetic

FPS = 5  # a coarse clock keeps the clip short; every action still reaches its peak


@pytest.fixture(scope="module")
def actions_clip() -> dict[str, list[np.ndarray]]:
    """Frames of one person: neutral, then each action from start to back at neutral."""
    actor = synthetic.FaceActor("astronaut", fps=FPS, seed=3)
    clip = {"neutral": [actor.frame() for _ in range(4)]}
    for action in synthetic.ACTIONS:
        actor.perform(action)
        frames = []
        while actor.busy:
            frames.append(actor.frame())
        clip[action] = frames
    return clip


def _measures(engine: Engine, rgb: np.ndarray) -> FaceMeasures:
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    box = engine._detect(gray)[0]
    return face_measures(engine.backend.landmarks(gray, box))


def _series(engine: Engine, frames: list[np.ndarray]) -> list[FaceMeasures]:
    return [_measures(engine, f) for f in frames]


def test_turning_to_the_users_own_left_moves_the_nose_toward_the_images_right(each_engine, actions_clip) -> None:
    base = _measures(each_engine, actions_clip["neutral"][0])
    peak = max(_series(each_engine, actions_clip["turn_left"]), key=lambda m: abs(m.yaw))
    assert peak.yaw_ratio - base.yaw_ratio > 0.25
    assert peak.yaw > 12


def test_turning_right_reads_as_negative_yaw(each_engine, actions_clip) -> None:
    base = _measures(each_engine, actions_clip["neutral"][0])
    peak = max(_series(each_engine, actions_clip["turn_right"]), key=lambda m: abs(m.yaw))
    assert peak.yaw_ratio - base.yaw_ratio < -0.25
    assert peak.yaw < -12


def test_a_blink_closes_the_eyes_relative_to_the_open_baseline(each_engine, actions_clip) -> None:
    base = _measures(each_engine, actions_clip["neutral"][0])
    lowest = min(m.eye_open for m in _series(each_engine, actions_clip["blink"]))
    assert lowest < 0.7 * base.eye_open


def test_a_smile_widens_the_mouth_and_an_open_mouth_opens_it(each_engine, actions_clip) -> None:
    base = _measures(each_engine, actions_clip["neutral"][0])
    widest = max(m.smile for m in _series(each_engine, actions_clip["smile"]))
    widest_gap = max(m.mouth_open for m in _series(each_engine, actions_clip["mouth_open"]))
    assert widest > 1.1 * base.smile
    assert widest_gap > base.mouth_open + 0.25


def test_a_nod_changes_the_pitch_without_reading_as_a_turn(each_engine, actions_clip) -> None:
    base = _measures(each_engine, actions_clip["neutral"][0])
    series = _series(each_engine, actions_clip["nod"])
    peak = max(series, key=lambda m: abs(m.pitch_ratio - base.pitch_ratio))
    assert abs(peak.pitch_ratio - base.pitch_ratio) > 0.07
    assert abs(peak.yaw_ratio - base.yaw_ratio) < 0.15


def test_rolling_the_image_reads_as_roll_not_as_a_turn(each_engine, actions_clip) -> None:
    frame = actions_clip["neutral"][0]
    base = _measures(each_engine, frame)
    h, w = frame.shape[:2]
    rotated = cv2.warpAffine(frame, cv2.getRotationMatrix2D((w / 2, h / 2), 15, 1.0), (w, h))
    rolled = _measures(each_engine, rotated)
    assert abs((rolled.roll - base.roll) + 15) < 4  # OpenCV's positive angle is counter-clockwise
    assert abs(rolled.yaw_ratio - base.yaw_ratio) < 0.1


class CountingBackend:
    """The real backend, counting detector and landmark calls."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.detects = 0
        self.landmark_calls = 0

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def detect(self, gray, bgr=None):
        self.detects += 1
        return self.inner.detect(gray, bgr)

    def landmarks(self, gray, box, bgr=None):
        self.landmark_calls += 1
        return self.inner.landmarks(gray, box, bgr)


class MeshCountingBackend(CountingBackend):
    """The same, for a backend whose landmarks come with the dense mesh (one call gives both)."""

    def mesh(self, gray, box, bgr=None):
        self.landmark_calls += 1
        return self.inner.mesh(gray, box, bgr)


def counting_backend(inner) -> CountingBackend:
    return MeshCountingBackend(inner) if isinstance(inner, MeshBackend) else CountingBackend(inner)


def test_the_tracker_refreshes_landmarks_every_frame_and_redetects_only_every_n_frames(
    each_engine, actions_clip
) -> None:
    counting = counting_backend(each_engine.backend)
    engine = Engine(counting, EngineSettings(engine="dlib", redetect_every=5))  # type: ignore[arg-type]
    frames = actions_clip["neutral"] + actions_clip["smile"] + actions_clip["neutral"]
    jpegs = [synthetic.encode_jpeg(f) for f in frames]
    state = engine.new_capture(CapturePlan(mode="passive"))
    for i, jpeg in enumerate(jpegs):
        state = engine.analyze_frame(state, jpeg, i / FPS).state
    assert counting.landmark_calls == len(jpegs)
    assert counting.detects == -(-len(jpegs) // 6)  # frame 0, then after every 5 tracked frames


def test_the_tracker_redetects_at_once_when_the_face_jumps(each_engine, actions_clip) -> None:
    counting = counting_backend(each_engine.backend)
    engine = Engine(counting, EngineSettings(engine="dlib", redetect_every=100))  # type: ignore[arg-type]
    frame = actions_clip["neutral"][0]
    moved = np.roll(frame, 180, axis=1)  # the face is 180 px to the right in the next frame
    state = engine.new_capture(CapturePlan(mode="passive"))
    for i, f in enumerate([frame, frame, moved]):
        result = engine.analyze_frame(state, synthetic.encode_jpeg(f), i / FPS)
        state = result.state
    assert counting.detects == 2
    assert result.face_count == 1
    assert state.box is not None and (state.box[0] + state.box[2]) / 2 > frame.shape[1] / 2 + 60


def test_frame_feedback_asks_for_light_distance_and_a_face(each_engine, actions_clip) -> None:
    frame = actions_clip["neutral"][0]
    dark = (frame * 0.18).astype(np.uint8)
    small = cv2.resize(frame, None, fx=0.5, fy=0.5)
    far = np.zeros((960, 1280, 3), np.uint8) + 128
    far[240:480, 320:640] = small
    blank = np.full_like(frame, 128)

    def feedback(img: np.ndarray) -> tuple[str, ...]:
        state = each_engine.new_capture(CapturePlan(mode="passive"))
        return each_engine.analyze_frame(state, synthetic.encode_jpeg(img), 0.0).feedback

    assert feedback(frame) == ("ok",)
    assert "moreLight" in feedback(dark)
    assert "comeCloser" in feedback(far)
    assert feedback(blank) == ("noFace",)
    h, w = frame.shape[:2]
    assert feedback(cv2.convertScaleAbs(frame, alpha=0.6, beta=150)) == ("lessLight",)
    assert feedback(cv2.GaussianBlur(frame, (0, 0), 3)) == ("tooBlurry",)
    aside = cv2.warpAffine(frame, np.float32([[1, 0, 0.3 * w], [0, 1, 0]]), (w, h), borderMode=cv2.BORDER_REPLICATE)
    assert feedback(aside) == ("centerFace",)
    # Too close: the face zoomed 3x about its centre fills about 0.85-0.95 of the frame width (both backends
    # still find it; 3.5x is past dlib's HOG, 4x past MediaPipe's detector).
    box = each_engine._detect(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY))[0]
    cx, cy = (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0
    close = cv2.warpAffine(frame, np.float32([[3, 0, w / 2 - 3 * cx], [0, 3, h / 2 - 3 * cy]]), (w, h))
    assert feedback(close) == ("moveBack",)
    assert Quality(120.0, 40.0, 100.0, face_width=0.8, centre_offset=0.0).problems() == ("moveBack",)
    assert Quality(120.0, 40.0, 100.0, face_width=0.5, centre_offset=0.0).problems() == ()


@pytest.mark.slow
def test_a_capture_of_mostly_blurred_frames_is_low_quality(each_engine) -> None:
    from tests.face_engine.synth_capture import passive_clip, run_capture

    def blurred(jpeg: bytes) -> bytes:
        image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        return synthetic.encode_jpeg(cv2.GaussianBlur(image, (0, 0), 5))

    verdict = run_capture(each_engine, [blurred(j) for j in passive_clip(seconds=3.5)], mode="passive").verdict
    assert "lowQuality" in verdict.reasons and verdict.scores["quality"] < 1.0
    assert verdict.verdict != "pass"


def test_a_picture_with_six_people_is_reported_as_multiple_faces(each_engine) -> None:
    t1 = synthetic.t1_path().read_bytes()
    state = each_engine.new_capture(CapturePlan(mode="passive"))
    result = each_engine.analyze_frame(state, t1, 0.0)
    assert result.face_count == 6
    assert "multipleFaces" in result.feedback
