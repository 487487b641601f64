"""A live person in world B: a head that sways, blinks on its own and performs challenges, filmed in a room.

Every clip draws its own person placement (distance, position), a resting
head orientation (up to 12 degrees of yaw, 8 of pitch and roll: tilted and
three-quarter views; a face already at three-quarters in its photo only
turns back toward the camera), a room, and per action its amplitude and timing.
Directions are the user's own: ``turn_left`` turns the person to their own
left, so in the raw frame the nose moves toward the image's right.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np

from .faces import person
from .head import Head, HeadPose
from .scene import Camera, room

ACTIONS: tuple[str, ...] = ("blink", "turn_left", "turn_right", "nod", "smile", "mouth_open")


def _smooth(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return x * x * (3 - 2 * x)


@dataclass(frozen=True)
class Action:
    name: str
    start: float  # seconds
    ramp: float  # seconds in (and out)
    hold: float
    amount: float  # degrees for turns and nods; 0..1 for the rest

    @property
    def end(self) -> float:
        return self.start + 2 * self.ramp + self.hold

    def level(self, t: float) -> float:
        if t <= self.start or t >= self.end:
            return 0.0
        x = t - self.start
        if x < self.ramp:
            return _smooth(x / self.ramp)
        if x < self.ramp + self.hold:
            return 1.0
        return 1.0 - _smooth((x - self.ramp - self.hold) / self.ramp)


def draw_action(name: str, start: float, rng: np.random.Generator) -> Action:
    """One action with human variety: how far, how fast and how long people move when asked."""
    if name == "blink":
        return Action(name, start, float(rng.uniform(0.07, 0.11)), float(rng.uniform(0.06, 0.12)), 1.0)
    if name in ("turn_left", "turn_right"):
        amount = float(rng.uniform(20, 30))
        return Action(name, start, float(rng.uniform(0.35, 0.55)), float(rng.uniform(0.3, 0.6)), amount)
    if name == "nod":
        return Action(
            name, start, float(rng.uniform(0.3, 0.45)), float(rng.uniform(0.2, 0.45)), float(rng.uniform(14, 20))
        )
    if name in ("smile", "mouth_open"):
        return Action(
            name, start, float(rng.uniform(0.25, 0.4)), float(rng.uniform(0.6, 1.0)), float(rng.uniform(0.75, 1))
        )
    raise ValueError(f"unknown action {name!r}; one of {ACTIONS}")


class _Sway:
    """Smooth, aperiodic small motion: a few slow sinusoids per axis with random frequencies and phases."""

    def __init__(self, rng: np.random.Generator, axes: int) -> None:
        self.freq = rng.uniform(0.08, 0.6, (axes, 4))
        self.phase = rng.uniform(0, 2 * math.pi, (axes, 4))
        self.amp = rng.uniform(0.4, 1.0, (axes, 4))
        self.amp /= self.amp.sum(1, keepdims=True)

    def __call__(self, t: float) -> np.ndarray:
        return (self.amp * np.sin(2 * math.pi * self.freq * t + self.phase)).sum(1)


class LivePerson:
    """``name`` in front of a webcam in a room, frame by frame (``frames``), doing ``actions`` at given times."""

    def __init__(
        self,
        name: str,
        *,
        seed: int = 0,
        fps: float = 15.0,
        sway: float = 1.0,
        rest_yaw: float | None = None,
        backdrop: np.ndarray | None = None,
    ) -> None:
        rng = np.random.default_rng(seed)
        self.rng = rng
        self.fps = fps
        iod = float(rng.uniform(72, 96))
        at = (float(rng.uniform(285, 355)), float(rng.uniform(180, 215)))
        self.head = Head(person(name, round(iod), (round(at[0]), round(at[1]))))
        self.backdrop = room(rng) if backdrop is None else backdrop
        self.camera = Camera(rng, fps=fps)
        if rest_yaw is None:
            # Facing the camera within 12 degrees; a face already seen at three-quarters in its photo
            # (nose well off the jaw's middle) only turns back toward the camera.
            marks = self.head.person.marks
            off = (marks[30, 0] - (marks[0, 0] + marks[16, 0]) / 2) / (marks[16, 0] - marks[0, 0])
            rest_yaw = float(rng.uniform(-12, 12))
            if abs(off) > 0.1:
                rest_yaw = -math.copysign(abs(rest_yaw), off)
        yaw = rest_yaw
        self.rest = HeadPose(yaw=yaw, pitch=float(rng.uniform(-8, 8)), roll=float(rng.uniform(-8, 8)))
        self.sway = sway
        self._sway = _Sway(rng, 6)
        self.actions: list[Action] = []
        # Upper lids resting lowered this share of the way to closed (WORLD_B_REST_LID, 0..0.9; 0: open eyes): people
        # whose eyes are narrow at rest; a blink still shuts them.
        self.rest_lid = min(max(float(os.environ.get("WORLD_B_REST_LID") or 0), 0.0), 0.9)

    def add(self, name: str, start: float) -> Action:
        action = draw_action(name, start, self.rng)
        self.actions.append(action)
        return action

    def natural_blinks(self, until: float, *, first: float = 1.0) -> None:
        """Blinks on their own, every 2.5 to 5 seconds, away from other actions."""
        t = first + float(self.rng.uniform(0, 1.0))
        while t < until:
            if all(t > a.end + 0.3 or t + 0.5 < a.start for a in self.actions):
                self.add("blink", t)
            t += float(self.rng.uniform(2.5, 5.0))

    def pose(self, t: float) -> HeadPose:
        s = self._sway(t) * self.sway
        kw = {
            "yaw": self.rest.yaw + 1.6 * s[0],
            "pitch": self.rest.pitch + 1.2 * s[1],
            "roll": self.rest.roll + 0.9 * s[2],
            "dx": 0.05 * s[3],
            "dy": 0.04 * s[4],
            "dz": 0.15 * s[5],
            "blink": self.rest_lid,
            "smile": 0.0,
            "mouth": 0.0,
        }
        for a in self.actions:
            level = a.level(t)
            if level == 0:
                continue
            if a.name == "turn_left":
                kw["yaw"] += a.amount * level
            elif a.name == "turn_right":
                kw["yaw"] -= a.amount * level
            elif a.name == "nod":
                kw["pitch"] += a.amount * level
            elif a.name == "blink":
                kw["blink"] = max(kw["blink"], level)
            elif a.name == "smile":
                kw["smile"] = max(kw["smile"], a.amount * level)
            else:
                kw["mouth"] = max(kw["mouth"], a.amount * level)
        return replace(self.rest, **kw)

    def scene(self, t: float) -> np.ndarray:
        """The room with the person in it at time ``t`` (float32 RGB, before the camera)."""
        img, alpha = self.head.render(self.pose(t))
        img -= self.backdrop
        img *= alpha[..., None]
        img += self.backdrop
        return img

    def frames(self, seconds: float) -> Iterator[np.ndarray]:
        for i in range(round(seconds * self.fps)):
            yield self.camera.shoot(self.scene(i / self.fps), i)


def performance(
    name: str,
    actions: Sequence[str],
    *,
    seed: int = 0,
    fps: float = 15.0,
    lead: float | None = None,
    gap: float | None = None,
    tail: float = 1.2,
    rest_yaw: float | None = None,
) -> tuple[LivePerson, float]:
    """A person doing ``actions`` in order after a neutral start, with natural blinks in the pauses.

    Returns the person and the clip's length in seconds.
    """
    live = LivePerson(name, seed=seed, fps=fps, rest_yaw=rest_yaw)
    t = float(live.rng.uniform(1.0, 1.5)) if lead is None else lead
    for name_ in actions:
        action = live.add(name_, t)
        t = action.end + (float(live.rng.uniform(0.8, 1.2)) if gap is None else gap)
    end = t + tail
    if not actions:
        live.natural_blinks(end, first=1.0)
    return live, end
