"""Replaying a recorded capture through the face engine exactly as a live session drives it.

The session flow (``apps.sessions.services.frames``/``verdict``) keeps the
engine state as JSON between frames (each frame may land on another worker),
times frames from the first one analysed, drops a frame the engine refuses,
has each new same-person key frame embedded apart while the capture goes on,
hands those embeddings back before the verdict and stops at the frame the
engine calls complete. ``capture_replay`` does the same in one process, so
``manage.py analyze`` and ``manage.py evaluate`` judge a recording with the
very code that judges a session.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from apps.face_engine.types import CapturePlan, FaceEngine, FrameError, KeyEmbedding, Verdict


class NoUsableFrame(Exception):  # noqa: N818 - reads as the condition it names
    """Not one frame of the capture could be analysed."""


@dataclass(frozen=True)
class Replay:
    verdict: Verdict
    frames_analysed: int
    frames_rejected: int
    cpu_seconds: float


def capture_replay(*, engine: FaceEngine, plan: CapturePlan, frames: Iterable[tuple[float, bytes]]) -> Replay:
    """Run ``frames`` ((seconds, JPEG bytes), in order) through ``engine`` as one session attempt would."""
    started = time.process_time()
    stored = ""  # the session keeps the state as JSON between frames
    t0: float | None = None
    analysed = rejected = 0
    embedded: dict[float, KeyEmbedding] = {}
    for t, jpeg in frames:
        state = engine.load_capture(stored) if stored else engine.new_capture(plan)
        t0 = t if t0 is None else t0
        try:
            result = engine.analyze_frame(state, jpeg, max(t - t0, 0.0))
        except FrameError:
            rejected += 1  # the session answers badFrame and goes on
            continue
        analysed += 1
        stored = result.state.to_json()
        for key in engine.key_frames_pending(result.state):
            if key.t not in embedded:  # the "keys" worker embeds each new key frame once
                found = engine.embed_key_frame(key.jpeg, key.box, key.points)
                if found is not None:
                    embedded[key.t] = found
        if result.capture_complete:
            break
    if not stored:
        raise NoUsableFrame("No usable frame in the capture.")
    state = engine.load_capture(stored)
    pending = {key.t for key in engine.key_frames_pending(state)}
    ready = {key_t: found for key_t, found in embedded.items() if key_t in pending}
    if ready:
        state = engine.with_key_embeddings(state, ready)
    verdict = engine.decide(state)
    return Replay(
        verdict=verdict,
        frames_analysed=analysed,
        frames_rejected=rejected,
        cpu_seconds=round(time.process_time() - started, 3),
    )
