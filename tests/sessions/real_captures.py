"""Real verdicts: synthetic clips of real faces run through the process's face engine, once per test session.

Tests that exercise what the session flow does *with* a verdict take it from here
rather than building one by hand. Clips come from ``tests/face_engine/synth_capture.py``
(15 fps JPEGs, cached), captures run with ``new_capture``/``analyze_frame``/``decide``.
"""

from __future__ import annotations

import functools

import numpy as np

from apps.face_engine.types import CapturePlan, ChallengeName, Verdict
from tests.face_engine import synthetic
from tests.face_engine.synth_capture import FPS, attack_clip, passive_clip, run_capture, run_prompted


def engine():
    from apps.core.engine import get_engine

    return get_engine()


@functools.cache
def live_passive_verdict(face: str = "astronaut", seed: int = 0) -> Verdict:
    """A live person holding still for about 3 s (passive mode): ``pass``."""
    return run_capture(engine(), passive_clip(face, 3.5, seed=seed), mode="passive").verdict


@functools.cache
def live_active_verdict(challenges: tuple[ChallengeName, ...], face: str = "astronaut") -> Verdict:
    """A live person answering each challenge as the engine asks for it: ``pass``."""
    actor = synthetic.FaceActor(face, fps=FPS, seed=11)
    return run_prompted(engine(), actor, challenges).verdict


@functools.cache
def print_attack_verdict(challenges: tuple[ChallengeName, ...] = ()) -> Verdict:
    """A printed photo waved in front of the camera: ``fail`` (presentationAttack)."""
    mode = "active" if challenges else "passive"
    clip = attack_clip("print_moved", seconds=7.0)
    return run_capture(engine(), clip, mode=mode, challenges=challenges).verdict


@functools.cache
def still_verdict() -> Verdict:
    """A person who neither blinks nor moves for the whole passive window: ``retry`` (insufficientMotion)."""
    frames = synthetic.passive_sequence("astronaut", 6.5, fps=FPS, seed=0, sway=0.3, blink_at_s=None)
    jpegs = [synthetic.encode_jpeg(f, 88) for f in frames]
    return run_capture(engine(), jpegs, mode="passive").verdict


@functools.cache
def two_people_verdict() -> Verdict:
    """Two live people side by side in every frame, in a session that fails on multiple faces."""
    left = synthetic.passive_sequence("astronaut", 3.5, fps=FPS, seed=0)
    right = synthetic.passive_sequence("t1_2", 3.5, fps=FPS, seed=1)
    jpegs = [
        synthetic.encode_jpeg(np.ascontiguousarray(np.hstack([a[:, 160:480], b[:, 160:480]])), 88)
        for a, b in zip(left, right, strict=True)
    ]
    eng = engine()
    state = eng.new_capture(CapturePlan(mode="passive", fail_on_multiple_faces=True))
    for i, jpeg in enumerate(jpegs):
        result = eng.analyze_frame(state, jpeg, i / FPS)
        state = result.state
        if result.capture_complete:
            break
    return eng.decide(state)
