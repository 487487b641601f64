"""The MediaPipe backend's 478-point mesh and the signals read from it (pose, lids, lips, noise-relative parallax)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from apps.face_engine import planar
from apps.face_engine.backends.base import MeshBackend
from apps.face_engine.mesh_signals import MESH_RIGID, mesh_measures, mesh_rigid_points
from apps.face_engine.pipeline import Engine
from apps.face_engine.planar import NOISE_PARALLAX_FACTOR, NOISE_PARALLAX_FLOOR, noise_parallax_threshold
from apps.face_engine.types import CapturePlan
from tests.face_engine import synthetic

FPS = 15


def _meshes(engine: Engine, face: str, action: str, seed: int = 1) -> tuple[np.ndarray, list[np.ndarray]]:
    """The neutral mesh of ``face`` and one mesh per frame of ``action``."""
    backend = engine.backend
    assert isinstance(backend, MeshBackend)
    actor = synthetic.FaceActor(face, fps=FPS, seed=seed)

    def mesh(rgb: np.ndarray) -> np.ndarray:
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        return backend.mesh(gray, engine._detect(gray)[0]).points

    neutral = mesh(actor.frame())
    actor.perform(action)
    frames = []
    while actor.busy:
        frames.append(mesh(actor.frame()))
    return neutral, frames


def test_the_mesh_has_478_points_with_both_irises_inside_their_eyes(mediapipe_engine) -> None:
    from skimage import data

    gray = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY)
    found = mediapipe_engine.backend.mesh(gray, mediapipe_engine._detect(gray)[0])
    assert found.points.shape == (478, 3) and found.presence > 0.99
    for iris, (outer, inner) in ((468, (33, 133)), (473, (263, 362))):
        x0, x1 = sorted((found.points[outer, 0], found.points[inner, 0]))
        assert x0 < found.points[iris, 0] < x1
    blank = np.full_like(gray, 128)
    assert mediapipe_engine.backend.mesh(blank, (150, 150, 350, 350)).presence < 0.01
    assert mediapipe_engine.backend.detect(blank) == []


@pytest.mark.slow
@pytest.mark.parametrize(("action", "sign"), [("turn_left", 1), ("turn_right", -1)])
def test_head_pose_in_degrees_turns_the_right_way(mediapipe_engine, action: str, sign: int) -> None:
    neutral, frames = _meshes(mediapipe_engine, "astronaut", action)
    base = mesh_measures(neutral)
    peak = max((mesh_measures(m) for m in frames), key=lambda m: abs(m.yaw - base.yaw))
    assert sign * (peak.yaw - base.yaw) > 15  # the synthetic head turns by 28 degrees
    assert abs(peak.pitch - base.pitch) < 8


@pytest.mark.slow
def test_a_nod_is_pitch_and_a_rolled_image_is_roll(mediapipe_engine) -> None:
    neutral, frames = _meshes(mediapipe_engine, "astronaut", "nod")
    base = mesh_measures(neutral)
    assert max(mesh_measures(m).pitch - base.pitch for m in frames) > 10
    rolled = neutral.copy()
    c, s = np.cos(np.radians(20)), np.sin(np.radians(20))
    rolled[:, :2] = neutral[:, :2] @ np.array([[c, s], [-s, c]])
    assert mesh_measures(rolled).roll - base.roll == pytest.approx(20, abs=0.5)
    assert abs(mesh_measures(rolled).yaw - base.yaw) < 0.5


@pytest.mark.slow
@pytest.mark.parametrize("face", ["astronaut", "t1_5"])  # t1_5: eyes narrow at rest
def test_a_blink_hides_the_iris_relative_to_the_persons_own_open_eyes(mediapipe_engine, face: str) -> None:
    neutral, frames = _meshes(mediapipe_engine, face, "blink")
    base = mesh_measures(neutral).eye_open
    lowest = min(mesh_measures(m).eye_open for m in frames)
    assert lowest <= 0.7 * base
    assert mesh_measures(frames[-1]).eye_open >= 0.9 * base


@pytest.mark.slow
def test_the_mouth_opens_and_a_smile_widens_relative_to_neutral(mediapipe_engine) -> None:
    neutral, opening = _meshes(mediapipe_engine, "astronaut", "mouth_open")
    _, smiling = _meshes(mediapipe_engine, "astronaut", "smile")
    base = mesh_measures(neutral)
    assert max(mesh_measures(m).mouth_open for m in opening) - base.mouth_open > 0.1
    assert max(mesh_measures(m).smile for m in smiling) / base.smile > 1.08


def test_the_parallax_threshold_follows_the_noise_of_the_still_frames() -> None:
    rng = np.random.default_rng(0)
    reference = rng.uniform(0, 100, (len(MESH_RIGID), 2)).astype(np.float32)
    iod = 60.0

    def jittered(sigma_px: float) -> list[np.ndarray]:
        return [(reference + rng.normal(0, sigma_px, reference.shape)).astype(np.float32) for _ in range(20)]

    quiet = noise_parallax_threshold(jittered(0.2), reference, iod)
    noisy = noise_parallax_threshold(jittered(1.5), reference, iod)
    assert quiet == NOISE_PARALLAX_FLOOR  # four times a tiny noise is below the floor
    assert noisy > NOISE_PARALLAX_FACTOR * 1.0 / iod  # ~1.4 px of residual noise, times four
    assert noisy > quiet


@pytest.mark.slow
def test_the_same_frames_give_the_same_verdict_twice(mediapipe_engine) -> None:
    """No wall clock and no hidden state in the analysis: identical frames, identical verdict and scores."""
    from tests.face_engine.synth_capture import live_clip, run_capture

    clip = live_clip("t1_2", ("blink",))
    first = run_capture(mediapipe_engine, clip, mode="active", challenges=("blink",)).verdict
    planar._remembered_residual.cache_clear()  # the second run fits every frame afresh
    again = run_capture(mediapipe_engine, clip, mode="active", challenges=("blink",), reload_every=1).verdict
    assert first.verdict == again.verdict == "pass"
    assert dict(first.scores) == dict(again.scores) and first.reasons == again.reasons
    assert first.embedding == again.embedding


@pytest.mark.slow
def test_a_still_passive_hold_fits_each_frame_once_while_it_waits_for_evidence(mediapipe_engine, monkeypatch) -> None:
    """Past the 3 s hold with neither a blink nor 3-D motion, every frame judges the planar evidence of all the
    frames kept so far again (up to PASSIVE_MAX_S). The fits of the frames already judged are remembered: each
    new frame costs its own fits, not the whole capture's (16.6 ms a frame before, 5 ms after, in-process)."""
    from apps.face_engine.types import CapturePlan

    actor = synthetic.FaceActor("astronaut", fps=10, seed=5)
    frames = [synthetic.encode_jpeg(f, quality=85) for f in actor.hold(6.5)]
    fits: list[int] = []
    fit = cv2.estimateAffinePartial2D
    monkeypatch.setattr(cv2, "estimateAffinePartial2D", lambda *a, **k: fits.append(1) or fit(*a, **k))
    planar._remembered_residual.cache_clear()
    state = mediapipe_engine.new_capture(CapturePlan(mode="passive", challenges=()))
    per_frame, waited = [], 0
    for i, jpeg in enumerate(frames):
        before = len(fits)
        result = mediapipe_engine.analyze_frame(state, jpeg, i / 10)
        state = result.state
        per_frame.append(len(fits) - before)
        waited += i / 10 >= 3.0
        if result.capture_complete:
            break
    assert waited >= 20  # the hold went on past 3 s: no blink, no motion, the evidence judged again each frame
    assert len(state.pts) >= 20 and max(per_frame[-waited:]) <= 3


def test_the_rigid_set_starts_with_the_eye_corners() -> None:
    points = np.zeros((478, 3), np.float32)
    points[:, 0] = np.arange(478)
    assert mesh_rigid_points(points)[:4, 0].tolist() == [33, 133, 362, 263]


def test_the_baseline_keeps_the_faces_own_depth_for_the_planar_check(mediapipe_engine) -> None:
    """The mesh's depth at the baseline (40 rigid vertices, centred, in IODs) is kept in the state, as the shape
    the planar check fits a rigid head with: the nose in front, the temples behind (the mesh's z grows away)."""
    from apps.face_engine.progress import planar_evidence
    from apps.face_engine.state import CaptureData
    from tests.face_engine.synth_capture import live_clip, run_capture

    clip = live_clip("astronaut", ("turn_left",))
    state = run_capture(mediapipe_engine, clip, mode="active", challenges=("turn_left",)).results[-1].state
    depth = state.baseline_depth
    assert depth is not None and len(depth) == len(MESH_RIGID)
    assert abs(sum(depth)) < 0.01
    nose, temples = depth[MESH_RIGID.index(4)], (depth[MESH_RIGID.index(234)], depth[MESH_RIGID.index(454)])
    assert nose == min(depth) and min(temples) - nose > 0.4
    assert CaptureData.from_json(state.to_json()).baseline_depth == depth
    assert planar_evidence(state).depth_ratio is not None  # the turn gave informative frames to fit


def test_a_capture_saved_before_the_depth_was_kept_goes_on_without_it(mediapipe_engine) -> None:
    """A capture in flight at the upgrade has its baseline but no depth: a later frame (the head may be turned
    by then) does not stand in for the baseline's shape, and the capture is judged as before."""
    import json

    from tests.face_engine.synth_capture import live_clip

    clip = live_clip("astronaut", ("turn_left",))
    state = mediapipe_engine.new_capture(CapturePlan(mode="active", challenges=("turn_left",)))
    i = 0
    while state.baseline is None:
        state = mediapipe_engine.analyze_frame(state, clip[i], i / FPS).state
        i += 1
    assert state.baseline_depth is not None  # taken on the frame that set the baseline
    before = json.loads(state.to_json())
    del before["baseline_depth"]  # as a release without the field saved it
    state = mediapipe_engine.load_capture(json.dumps(before))
    for j in range(i, i + 5):
        state = mediapipe_engine.analyze_frame(state, clip[j], j / FPS).state
    assert state.baseline_depth is None


@pytest.mark.parametrize("backend", ["mediapipe", "dlib"])
def test_a_blink_among_the_first_frames_does_not_become_the_open_eyes_baseline(backend, request) -> None:
    """Under load the first frame is analysed, then none for a second, then the frames of a blink: the baseline,
    the median of the first five face frames, took the blink's half-closed lids as "open", no later blink
    reached it, and a live person holding still got retry / insufficientMotion (bench/sessions.py at N=20,
    1 session of 120). The baseline now waits for five frames without a blink."""
    from apps.face_engine import baseline

    engine = request.getfixturevalue(f"{backend}_engine")
    actor = synthetic.FaceActor("astronaut", fps=10, seed=11)
    clip = actor.hold(1.0)
    for _ in range(4):
        clip += actor.act("blink") + actor.hold(0.6)
    frames = [synthetic.encode_jpeg(f, quality=85) for f in clip * 2]
    state = engine.new_capture(CapturePlan(mode="passive", challenges=()))
    timed = [(0.0, frames[0])] + [(1.0 + (i - 11) / 10, frames[i]) for i in range(11, len(frames))]
    eyes = []
    for t, jpeg in timed:
        result = engine.analyze_frame(state, jpeg, t)
        state = result.state
        eyes.append(state.series[-1].eye_open if state.series else None)
        if result.capture_complete:
            break
    first = [e for e in eyes[: baseline.BASELINE_FRAMES] if e is not None]
    assert min(first) < baseline.BASELINE_EYES_SPREAD * max(first)  # the first five frames do hold the blink
    assert state.baseline is not None and state.baseline.eye_open >= 0.9 * max(first)
    verdict = engine.decide(state)
    assert verdict.verdict == "pass", verdict.reasons


@pytest.mark.parametrize("backend", ["mediapipe", "dlib"])
def test_a_baseline_that_waited_through_blinks_is_taken_where_the_eyes_were_open(backend, request) -> None:
    """Under load a few frames a second are analysed, and they can keep landing on the blinks of a person who
    blinks about once a second: no five face frames in a row without one. After BASELINE_MAX_WAIT frames the
    baseline was taken over the last five anyway, three of them a blink: "open" was half-closed, no later blink
    reached it, and a live person got retry / insufficientMotion (bench/sessions.py at N=20, 1 session of 580).
    The baseline now takes the window with the fewest blink frames seen while it waited."""
    from apps.face_engine import baseline

    engine = request.getfixturevalue(f"{backend}_engine")
    actor = synthetic.FaceActor("astronaut", fps=10, seed=11)
    clip = actor.hold(1.0)
    for _ in range(4):
        clip += actor.act("blink") + actor.hold(0.6)  # the lids are down on frames 11-13, 22-24, 33-35, 44-46
    frames = [synthetic.encode_jpeg(f, quality=85) for f in clip * 3]
    # A loaded server's picks of the 10 fps stream (a blink frame at every fifth or closer), then every frame.
    picked = [0, 3, 6, 9, 12, 15, 18, 23, 26, 29, 34, 38, 44, 45, 46, *range(48, len(frames))]
    state = engine.new_capture(CapturePlan(mode="passive", challenges=()))
    eyes = []
    for i in picked:
        result = engine.analyze_frame(state, frames[i], i / 10)
        state = result.state
        eyes.append(state.series[-1].eye_open)
        if result.capture_complete:
            break
    waited = eyes[: baseline.BASELINE_FRAMES + baseline.BASELINE_MAX_WAIT]
    windows = [waited[i : i + baseline.BASELINE_FRAMES] for i in range(len(waited) - baseline.BASELINE_FRAMES + 1)]
    assert all(min(w) < baseline.BASELINE_EYES_SPREAD * max(w) for w in windows)  # never five frames at rest
    assert sorted(windows[-1])[2] < baseline.BASELINE_EYES_SPREAD * max(waited)  # the last five: mostly a blink
    assert state.baseline is not None and state.baseline.eye_open >= 0.9 * max(waited)
    verdict = engine.decide(state)
    assert verdict.verdict == "pass", verdict.reasons
