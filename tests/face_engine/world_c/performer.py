"""A live sitter in world C: sways, blinks on their own, answers challenges, lit by a lamp fixed in the room.

Directions are the user's own: ``turn_left`` is a turn to the person's own
left, so in the raw, un-mirrored frame the nose moves toward the image's
right (docs/engine.md, "pose"). Each clip draws where the person sits, a
resting head orientation, the light's direction, and per challenge how far
and how fast the person moves (cosine ease in and out, 0.6-1.2 s a turn).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from .expressions import expressive
from .photos import H, Sitter, W, rest_lid, sitter
from .relief import Pose, relief, shading
from .scene import Webcam, office

MOVES: tuple[str, ...] = ("blink", "turn_left", "turn_right", "nod", "smile", "mouth_open")


@dataclass(frozen=True)
class Move:
    name: str
    start: float
    rise: float  # s, ease in (and out)
    hold: float
    amount: float  # degrees for turns and nods, 0..1 otherwise

    @property
    def end(self) -> float:
        return self.start + 2 * self.rise + self.hold

    def level(self, t: float) -> float:
        x = t - self.start
        if x <= 0 or t >= self.end:
            return 0.0
        if x >= self.rise and x <= self.rise + self.hold:
            return 1.0
        edge = x if x < self.rise else self.end - t
        return 0.5 - 0.5 * math.cos(math.pi * edge / self.rise)


def draw_move(name: str, start: float, rng: np.random.Generator) -> Move:
    u = rng.uniform
    if name == "blink":  # 150-250 ms lid to lid
        return Move(name, start, float(u(0.05, 0.08)), float(u(0.04, 0.09)), 1.0)
    if name in ("turn_left", "turn_right"):
        return Move(name, start, float(u(0.25, 0.42)), float(u(0.1, 0.36)), float(u(18, 30)))
    if name == "nod":
        return Move(name, start, float(u(0.22, 0.38)), float(u(0.1, 0.3)), float(u(12, 20)))
    if name in ("smile", "mouth_open"):
        return Move(name, start, float(u(0.18, 0.3)), float(u(0.3, 0.6)), float(u(0.75, 1.0)))
    raise ValueError(f"unknown move {name!r}; one of {MOVES}")


class Sway:
    """Small aperiodic drift: three incommensurate sinusoids per axis."""

    def __init__(self, rng: np.random.Generator, axes: int = 6) -> None:
        self.f = rng.uniform(0.1, 0.7, (axes, 3))
        self.p = rng.uniform(0, 2 * math.pi, (axes, 3))
        self.a = rng.dirichlet([2.0, 2.0, 2.0], axes)

    def __call__(self, t: float) -> np.ndarray:
        return (self.a * np.sin(2 * math.pi * self.f * t + self.p)).sum(1)


class Performer:
    """``name`` at a desk in an office, in front of a webcam; ``frames`` films it."""

    def __init__(self, name: str, *, seed: int = 0, fps: float = 15.0, backdrop: np.ndarray | None = None) -> None:
        rng = np.random.default_rng([seed, 0xC])
        self.rng, self.fps = rng, fps
        iod = round(float(rng.uniform(70, 95)))
        at = (round(float(rng.uniform(290, 350))), round(float(rng.uniform(175, 210))))
        self.sitter: Sitter = sitter(name, iod, at)
        self.relief = relief(self.sitter)
        self.backdrop = office(rng) if backdrop is None else backdrop
        self.camera = Webcam(rng, fps)
        az, el = math.radians(rng.choice([-1, 1]) * rng.uniform(20, 50)), math.radians(rng.uniform(20, 40))
        self.light = np.array([math.sin(az) * math.cos(el), -math.sin(el), -math.cos(az) * math.cos(el)])
        yaw = float(rng.uniform(-8, 8))
        if abs(self.sitter.turned) > 0.1:  # already at three-quarters in the photo: rests turned back a little
            yaw = -math.copysign(abs(yaw), self.sitter.turned)
        self.rest = Pose(yaw=yaw, pitch=float(rng.uniform(-6, 6)), roll=float(rng.uniform(-4, 4)))
        self.sway_scale = 1.0
        self.rest_lid = rest_lid()  # lids lowered at rest (WORLD_C_REST_LID), 0: open eyes
        self.sway = Sway(rng)
        self.moves: list[Move] = []
        self._body = self._body_layer()

    def _body_layer(self) -> tuple[np.ndarray, np.ndarray]:
        """Neck and shoulders (they sway, never turn); the neck carried up behind the head."""
        s = self.sitter
        u, v = s.uv
        chin = float(s.marks_uv[8, 1])
        axis = 0.5 * (s.marks_uv[8, 0] + 0.5 * (s.marks_uv[0, 0] + s.marks_uv[16, 0]))
        u = u - axis
        neck = (np.abs(u) < 0.6) & (v > 0.2) & (v < chin + 1.4)
        shoulders = (u / 2.8) ** 2 + ((v - chin - 2.2) / 1.5) ** 2 < 1.0
        mask = cv2.GaussianBlur((neck | shoulders).astype(np.float32), (0, 0), 0.04 * s.iod)
        ys, xs = np.mgrid[0:H, 0:W].astype(np.float32)
        y_neck = float(s.mid[1] + (chin + 0.3) * s.iod)
        map_y = np.where(np.abs(u) < 0.7, np.maximum(ys, y_neck), ys).astype(np.float32)
        tex = cv2.remap(s.image, xs, map_y, cv2.INTER_LINEAR)
        return tex, mask

    def add(self, name: str, start: float) -> Move:
        move = draw_move(name, start, self.rng)
        self.moves.append(move)
        return move

    def pose(self, t: float) -> tuple[Pose, dict[str, float]]:
        s = self.sway(t) * self.sway_scale
        r = self.rest
        yaw, pitch = r.yaw + 1.3 * s[0], r.pitch + 1.0 * s[1]
        expr = {"blink": self.rest_lid, "smile": 0.0, "mouth": 0.0}
        for m in self.moves:
            k = m.level(t)
            if k == 0.0:
                continue
            if m.name == "turn_left":
                yaw += m.amount * k
            elif m.name == "turn_right":
                yaw -= m.amount * k
            elif m.name == "nod":
                pitch += m.amount * k
            else:
                key = {"blink": "blink", "smile": "smile", "mouth_open": "mouth"}[m.name]
                expr[key] = max(expr[key], m.amount * k)
        pose = replace(r, yaw=yaw, pitch=pitch, roll=r.roll + 0.7 * s[2], dx=0.04 * s[3], dy=0.03 * s[4], dz=0.1 * s[5])
        return pose, expr

    def scene(self, t: float) -> np.ndarray:
        """The office with the person at time ``t`` (float32 RGB, before the camera)."""
        pose, expr = self.pose(t)
        return self.compose(pose, expr)

    def compose(self, pose: Pose, expr: dict[str, float] | None = None) -> np.ndarray:
        """The office with the person in ``pose`` with an expression (blink, smile, mouth: 0..1)."""
        expr = expr or {}
        s = self.sitter
        shift = np.float32([[1, 0, pose.dx * s.iod], [0, 1, pose.dy * s.iod]])
        tex, mask = self._body
        body = cv2.warpAffine(tex, shift, (W, H), borderMode=cv2.BORDER_REPLICATE)
        a = cv2.warpAffine(mask, shift, (W, H))[..., None]
        img = self.backdrop + a * (body - self.backdrop)
        (x0, y0, x1, y1), tx, ty, found, n = self.relief.march(pose)
        face = cv2.remap(expressive(s, **expr), tx, ty, cv2.INTER_LINEAR)
        alpha = cv2.remap(self.relief.alpha, tx, ty, cv2.INTER_LINEAR) * found
        rest_n = np.tensordot(pose.rotation().T, n, 1)
        # Skin the photo saw edge-on and the turn brings face-on is stretched thin: it fades into the outline.
        stretch = np.maximum(-n[2], 0.0) / np.maximum(-rest_n[2], 0.02)
        alpha *= np.clip((4.0 - stretch) / 2.0, 0.0, 1.0)
        ratio = np.clip(shading(n, self.light) / np.maximum(shading(rest_n, self.light), 1e-3), 0.8, 1.2)
        face *= ratio[..., None].astype(np.float32)
        crop = img[y0:y1, x0:x1]
        crop += alpha[..., None] * (face - crop)
        return img

    def frames(self, seconds: float) -> Iterator[np.ndarray]:
        for i in range(round(seconds * self.fps)):
            yield self.camera.shoot(self.scene(i / self.fps), i)

    def spontaneous_blinks(self, until: float, count: int) -> None:
        """``count`` blinks at random moments, apart from each other and from other moves."""
        for _ in range(count):
            for _try in range(20):
                t = float(self.rng.uniform(0.8, until - 0.6))
                if all(t > m.end + 0.6 or t + 0.9 < m.start for m in self.moves):
                    self.add("blink", t)
                    break


def perform(
    name: str, moves: Sequence[str], *, seed: int = 0, fps: float = 15.0, **kw: object
) -> tuple[Performer, float]:
    """A person answering ``moves`` in order after a neutral start; a passive hold (no moves) lasts 6 s."""
    p = Performer(name, seed=seed, fps=fps, **kw)  # type: ignore[arg-type]
    t = float(p.rng.uniform(1.0, 1.6))
    for move in moves:
        t = p.add(move, t).end + float(p.rng.uniform(0.9, 1.4))
    if not moves:
        p.spontaneous_blinks(6.0, int(p.rng.integers(1, 3)))
        return p, 6.0
    return p, t + float(p.rng.uniform(0.1, 0.4))
