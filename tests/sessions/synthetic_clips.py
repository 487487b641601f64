"""Synthetic camera clips (from the engine's generator), rendered once per test session."""

from __future__ import annotations

import functools
from collections import deque
from typing import Any

FPS = 10
ACTIONS = ("blink", "turn_left", "turn_right", "nod", "smile", "mouth_open")


@functools.cache
def clips() -> dict[str, list[bytes]]:
    """JPEG clips of one actor: ``hold`` (1.5 s of natural stillness) and each action, ending at neutral.

    Every challenge create-session can draw has a clip, so sessions keep their random challenges.
    """
    from tests.face_engine import synthetic

    actor = synthetic.FaceActor("astronaut", fps=FPS, seed=3)
    rendered: dict[str, list[Any]] = {"hold": actor.hold(1.5)}
    for action in ACTIONS:
        rendered[action] = actor.act(action) + actor.hold(0.3)
    return {name: [synthetic.encode_jpeg(f) for f in frames] for name, frames in rendered.items()}


@functools.cache
def frozen_still() -> list[bytes]:
    """A person holding perfectly still without blinking for longer than the passive limit (6 s): too little
    evidence either way, which the engine answers with ``retry`` (insufficientMotion)."""
    from tests.face_engine import synthetic

    frames = synthetic.passive_sequence("astronaut", 7.5, fps=FPS, seed=5, sway=0.3, blink_at_s=None)
    return [synthetic.encode_jpeg(f) for f in frames]


@functools.cache
def photo_attack() -> list[bytes]:
    """A printed photo held up and moved in front of the camera."""
    from tests.face_engine import synthetic

    # Longer than the engine's passive limit (6 s), so it is never looped.
    return [synthetic.encode_jpeg(f) for f in synthetic.attack_sequence("print_moved", seconds=7, fps=FPS)]


@functools.cache
def empty_room() -> bytes:
    """A camera frame with nobody in it (the print attack's plain room, before the print is raised)."""
    import numpy as np

    from tests.face_engine import synthetic

    frame = np.full((480, 640, 3), 170, np.uint8)
    frame[:, :, 2] = 150
    return synthetic.encode_jpeg(frame)


class ScriptedUser:
    """Streams a still face and answers each ``challenge`` message with a clip (the right one, or ``answers``)."""

    def __init__(self, answers: dict[str, str] | None = None, passive_blink: bool = False) -> None:
        self.clips = clips()
        self.answers = answers or {}
        self.queue: deque[bytes] = deque()
        self.challenges: list[str] = []
        # A person holding still still blinks every second or two.
        self.idle = self.clips["hold"][:8] + self.clips["blink"] if passive_blink else self.clips["hold"]

    def __iter__(self) -> ScriptedUser:
        return self

    def __next__(self) -> bytes:
        if not self.queue:
            self.queue.extend(self.idle)
        return self.queue.popleft()

    def on_message(self, message: dict[str, Any]) -> None:
        if message["type"] == "challenge":
            self.challenges.append(message["challenge"])
            answer = self.answers.get(message["challenge"], message["challenge"])
            self.queue.clear()
            self.queue.extend(self.clips["hold"][:4] + self.clips[answer])
