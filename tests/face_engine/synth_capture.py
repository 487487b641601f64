"""Feeding synthetic clips to a face engine the way the session flow does, and caching the clips.

Clips are cached as JPEG bytes (what the browser sends), not as raw frames:
a 4-second raw clip is ~55 MB, its JPEGs ~4 MB.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from apps.face_engine.types import CapturePlan, ChallengeName, FaceEngine, FrameResult, Verdict
from tests.face_engine import synthetic

FPS = 15
JPEG_QUALITY = 88


@dataclass(frozen=True)
class Capture:
    verdict: Verdict
    results: tuple[FrameResult, ...]
    frames: tuple[bytes, ...] = ()  # the JPEGs analysed (run_prompted), to analyse them again

    @property
    def frames_used(self) -> int:
        return len(self.results)


def run_capture(
    engine: FaceEngine,
    jpegs: Sequence[bytes],
    *,
    mode: str,
    challenges: Sequence[ChallengeName] = (),
    fps: float = FPS,
    reload_every: int = 4,
) -> Capture:
    """One capture, frame by frame, until the engine says it is complete (or the clip ends).

    Every ``reload_every`` frames (0: never) the state goes through
    ``to_json``/``load_capture``, as it does when consecutive frames land on
    different worker processes.
    """
    state = engine.new_capture(CapturePlan(mode=mode, challenges=tuple(challenges)))  # type: ignore[arg-type]
    results = []
    for i, jpeg in enumerate(jpegs):
        result = engine.analyze_frame(state, jpeg, i / fps)
        results.append(result)
        if result.capture_complete:
            break
        state = result.state
        if reload_every and i % reload_every == reload_every - 1:
            state = engine.load_capture(state.to_json())
    return Capture(verdict=engine.decide(results[-1].state), results=tuple(results))


def _jpegs(frames: Sequence[synthetic.Frame]) -> tuple[bytes, ...]:
    return tuple(synthetic.encode_jpeg(f, JPEG_QUALITY) for f in frames)


@functools.cache
def live_clip(
    face: str = "astronaut", actions: tuple[str, ...] = (), *, seed: int = 0, tail_s: float = 0.7
) -> tuple[bytes, ...]:
    return _jpegs(synthetic.live_sequence(face, actions, fps=FPS, seed=seed, tail_s=tail_s))


@functools.cache
def passive_clip(
    face: str = "astronaut", seconds: float = 4.0, *, seed: int = 0, sway: float = 2.5
) -> tuple[bytes, ...]:
    return _jpegs(synthetic.passive_sequence(face, seconds, fps=FPS, seed=seed, sway=sway))


@functools.cache
def attack_clip(
    kind: str, face: str = "astronaut", *, seconds: float = 4.0, actions: tuple[str, ...] = (), seed: int = 0
) -> tuple[bytes, ...]:
    return _jpegs(synthetic.attack_sequence(kind, face, seconds=seconds, fps=FPS, seed=seed, actions=actions))


def run_prompted(
    engine: FaceEngine,
    actor: synthetic.FaceActor,
    challenges: Sequence[ChallengeName],
    *,
    reaction_s: float = 0.5,
    max_s: float = 25.0,
    ignore: Collection[str] = (),
) -> Capture:
    """A person who only acts when the engine asks: each new ``current_challenge`` is performed after
    ``reaction_s`` (a human's reaction time), with nothing planned in advance; a prompt in ``ignore`` is not
    (the person misses it)."""
    state = engine.new_capture(CapturePlan(mode="active", challenges=tuple(challenges)))
    results: list[FrameResult] = []
    frames: list[bytes] = []
    answered: set[tuple[int, str]] = set()
    prompt_seen_at: float | None = None
    for i in range(round(max_s * actor.fps)):
        t = i / actor.fps
        frames.append(synthetic.encode_jpeg(actor.frame(), JPEG_QUALITY))
        result = engine.analyze_frame(state, frames[-1], t)
        results.append(result)
        if result.capture_complete:
            break
        state = engine.load_capture(result.state.to_json())
        prompt = result.current_challenge
        key = (result.challenges_done, prompt or "")
        if prompt is None or prompt in ignore or actor.busy or key in answered:
            prompt_seen_at = None
            continue
        if prompt_seen_at is None:
            prompt_seen_at = t
        elif t - prompt_seen_at >= reaction_s:
            actor.perform(prompt)
            answered.add(key)
            prompt_seen_at = None
    return Capture(verdict=engine.decide(results[-1].state), results=tuple(results), frames=tuple(frames))
