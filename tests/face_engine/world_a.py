"""World A's further attacks, built on ``synthetic.py`` (2-D warps of photos): bent prints and video replays.

``synthetic.attack_sequence`` already makes prints and screens waved and tilted
in perspective (up to 35 degrees about the vertical axis), frozen frames and
face swaps. This adds, for the two-world evaluation (docs/benchmarks.md):

* ``bent_print_sequence``: the print curved about its vertical axis like paper
  in a hand (a cylinder cut into facets, each a pinhole homography), swept and
  tilted, tilted further when a live person would turn or nod;
* ``replay_sequence``: a screen replaying a recorded *live* clip of the person
  (``live_sequence``), which answered other challenges than the ones asked;
* ``face_swap_sequence``: a swap that comes before the capture is complete
  (``attack_sequence("face_swap")`` lets the first person answer a single
  challenge alone, and the engine is done before the second one shows up).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from tests.face_engine import synthetic
from tests.face_engine.synth_rig import _camera, _Wobble, sensor_noise
from tests.face_engine.synthetic import _ENVELOPES, _background, _print_texture, _screen_texture, live_timeline

Frame = synthetic.Frame
_FACETS = 6


def _rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    a, b, c = (math.radians(v) for v in (yaw, pitch, roll))
    ry = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    rx = np.array([[1, 0, 0], [0, math.cos(b), math.sin(b)], [0, -math.sin(b), math.cos(b)]])
    rz = np.array([[math.cos(c), -math.sin(c), 0], [math.sin(c), math.cos(c), 0], [0, 0, 1]])
    return rz @ rx @ ry


def _project(pts: np.ndarray, size: tuple[int, int], dx: float, dy: float) -> np.ndarray:
    w, h = size
    f = 1.2 * w
    depth = f - pts[:, 2]
    return np.stack([pts[:, 0] * f / depth + w / 2 + dx, pts[:, 1] * f / depth + h / 2 + dy], 1).astype(np.float32)


def _bent_warp(
    tex: np.ndarray, size: tuple[int, int], *, bend: float, rot: np.ndarray, scale: float, dx: float, dy: float
) -> tuple[np.ndarray, np.ndarray]:
    """The texture on a cylinder (edges ``bend`` half-widths toward the camera), one homography per facet."""
    th, tw = tex.shape[:2]
    w, h = size
    out = np.zeros((h, w, 3), np.float32)
    alpha = np.zeros((h, w), np.float32)
    xs = np.linspace(0, tw, _FACETS + 1)
    for i in range(_FACETS):
        x0, x1 = xs[i], xs[i + 1]
        corners = np.array([[x0, 0], [x1, 0], [x1, th], [x0, th]], np.float64)
        u = (corners[:, 0] - tw / 2) / (tw / 2)
        pts = np.stack([corners[:, 0] - tw / 2, corners[:, 1] - th / 2, bend * (tw / 2) * u**2], 1) * scale
        proj = _project(pts @ rot.T, size, dx, dy)
        hm = cv2.getPerspectiveTransform(corners.astype(np.float32), proj)
        quad = np.zeros((h, w), np.uint8)
        cv2.fillConvexPoly(quad, np.round(proj * 16).astype(np.int32), 255, lineType=cv2.LINE_AA, shift=4)
        mask = quad.astype(np.float32) / 255
        picture = cv2.warpPerspective(tex, hm, size, flags=cv2.INTER_LINEAR).astype(np.float32)
        fresh = mask * (1 - alpha)
        out += picture * fresh[..., None]
        alpha += fresh
    return out, np.clip(alpha, 0, 1)


def _tilts(t: float, timeline: Sequence[tuple[str, float, float]]) -> tuple[float, float]:
    yaw = pitch = 0.0
    for action, start, end in timeline:
        if start <= t < end:
            _, env = _ENVELOPES[action]
            amount = env((t - start) / (end - start))  # type: ignore[operator]
            yaw += {"turn_left": 30, "turn_right": -30}.get(action, 0) * amount
            pitch += {"nod": -20}.get(action, 0) * amount
    return yaw, pitch


def bent_print_sequence(
    face: str = "astronaut",
    *,
    seconds: float = 4.0,
    fps: float = 15,
    seed: int = 0,
    actions: Sequence[str] = (),
    size: tuple[int, int] = (640, 480),
) -> list[Frame]:
    """A print bent like paper in a hand, swept and tilted in front of a plain room."""
    rng = np.random.default_rng(seed)
    base = synthetic.portrait(face, size)
    tex = _print_texture(base.image)
    bend = float(rng.uniform(0.12, 0.3)) * (1 if rng.random() < 0.5 else -1)
    bg = _background(size, rng).astype(np.float32)
    wob = _Wobble(rng, 6)
    sweep = float(rng.uniform(0.3, 1.0)) * (0.3 if actions else 1.0)
    timeline = live_timeline(actions) if actions else []
    phase = rng.uniform(0, 2 * math.pi, 2)
    fit = 0.95 * size[0] / tex.shape[1]
    frames = []
    for i in range(round(seconds * fps)):
        t = i / fps
        wv = wob(t)
        yaw, pitch = _tilts(t, timeline)
        yaw += sweep * 28 * math.sin(2 * math.pi * 0.4 * t + phase[0]) + 4 * wv[0]
        pitch += sweep * 16 * math.sin(2 * math.pi * 0.3 * t + phase[1]) + 3 * wv[1]
        rot = _rotation(max(-30, min(30, yaw)), max(-30, min(30, pitch)), 5 * wv[2])
        pic, alpha = _bent_warp(
            tex, size, bend=bend, rot=rot, scale=fit * (1 + 0.05 * wv[3]), dx=20 * wv[4], dy=12 * wv[5]
        )
        frame = pic + bg * (1 - alpha[..., None])
        frames.append(_camera(np.clip(frame, 0, 255).astype(np.uint8), 1.0, sensor_noise(rng, 2.0, size[1], size[0])))
    return frames


def replay_sequence(
    face: str = "astronaut",
    *,
    recorded: Sequence[str] = ("smile", "turn_right"),
    actions: Sequence[str] = (),
    seconds: float | None = None,
    fps: float = 15,
    seed: int = 0,
    size: tuple[int, int] = (640, 480),
) -> list[Frame]:
    """A phone replaying a live clip of ``face`` doing ``recorded``, held up and tilted like a picture.

    With ``actions`` (the challenges asked), the attacker tilts the phone at the
    moments a live person would turn or nod, as with a print.
    """
    rng = np.random.default_rng(seed)
    video = synthetic.live_sequence(face, recorded, fps=fps, seed=seed + 101)
    n = round(seconds * fps) if seconds else max(len(video), round(6 * fps))
    bg = _background(size, rng).astype(np.float32)
    wob = _Wobble(rng, 6)
    timeline = live_timeline(actions) if actions else []
    sweep = float(rng.uniform(0.2, 0.7)) * (0.3 if actions else 1.0)
    phase = rng.uniform(0, 2 * math.pi, 2)
    diagonal = (
        np.linspace(-1, 1, size[0], dtype=np.float32)[None, :]
        + 0.6 * np.linspace(-1, 1, size[1], dtype=np.float32)[:, None]
    )
    glare = (np.exp(-((diagonal / 0.25) ** 2)) * 26)[..., None]
    frames = []
    for i in range(n):
        t = i / fps
        tex = _screen_texture(video[i % len(video)])
        th, tw = tex.shape[:2]
        wv = wob(t)
        yaw, pitch = _tilts(t, timeline)
        yaw += sweep * 25 * math.sin(2 * math.pi * 0.4 * t + phase[0]) + 4 * wv[0]
        pitch += sweep * 15 * math.sin(2 * math.pi * 0.3 * t + phase[1]) + 3 * wv[1]
        rot = _rotation(max(-30, min(30, yaw)), max(-30, min(30, pitch)), 5 * wv[2])
        corners = np.array([[0, 0], [tw, 0], [tw, th], [0, th]], np.float32)
        scale = 0.92 * size[0] / tw * (1 + 0.05 * wv[3])
        pts = np.concatenate([(corners - [tw / 2, th / 2]) * scale, np.zeros((4, 1))], 1)
        hm = cv2.getPerspectiveTransform(corners, _project(pts @ rot.T, size, 20 * wv[4], 12 * wv[5]))
        picture = cv2.warpPerspective(tex, hm, size, flags=cv2.INTER_LINEAR).astype(np.float32)
        alpha = cv2.warpPerspective(np.full((th, tw), 255, np.uint8), hm, size)[..., None].astype(np.float32) / 255
        frame = picture * alpha + bg * (1 - alpha) + np.roll(glare, int(0.2 * size[0] * wv[0]), axis=1) * alpha
        frames.append(_camera(np.clip(frame, 0, 255).astype(np.uint8), 1.0, sensor_noise(rng, 2.0, size[1], size[0])))
    return frames


def face_swap_sequence(
    face: str, other: str, *, actions: Sequence[str] = (), fps: float = 15, seed: int = 0
) -> list[Frame]:
    """``face`` answers the first half of ``actions`` (rounded down), then ``other`` steps in for the rest.

    The second person always answers the last challenge, and in a passive hold
    comes in after 1.5 s: a swap after the capture is complete would be no attack.
    """
    half = len(actions) // 2
    first = synthetic.live_sequence(face, actions[:half], fps=fps, seed=seed, neutral_s=1.2, tail_s=0.3)
    if not actions:
        first = first[: round(1.5 * fps)]
        second = synthetic.passive_sequence(other, 4.5, fps=fps, seed=seed + 1, blink_at_s=1.0)
    else:
        second = synthetic.live_sequence(other, actions[half:], fps=fps, seed=seed + 1, neutral_s=0.6, tail_s=1.2)
    return first + second
