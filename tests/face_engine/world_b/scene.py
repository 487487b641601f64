"""World B's room and camera: a still background that fills the frame, exposure flicker and sensor noise."""

from __future__ import annotations

import math

import cv2
import numpy as np

SIZE = (640, 480)


def room(rng: np.random.Generator, size: tuple[int, int] = SIZE) -> np.ndarray:
    """A room behind the person (float32 RGB): wall, floor, a window, a door, shelves, slightly out of focus."""
    w, h = size
    wall = rng.uniform(120, 215, 3).astype(np.float32)
    img = np.empty((h, w, 3), np.float32)
    img[:] = wall
    ys = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    xs = np.linspace(0, 1, w, dtype=np.float32)[None, :, None]
    img *= 0.85 + 0.25 * np.exp(-(((xs - rng.uniform(0.2, 0.8)) / 0.6) ** 2)) - 0.1 * ys
    floor_y = int(h * rng.uniform(0.78, 0.9))
    img[floor_y:] = rng.uniform(60, 140, 3)
    cv2.line(img, (0, floor_y), (w, floor_y), (wall * 0.6).tolist(), 3)
    wx, wy = int(rng.uniform(0.02, 0.6) * w), int(rng.uniform(0.05, 0.25) * h)
    ww, wh = int(rng.uniform(0.18, 0.32) * w), int(rng.uniform(0.25, 0.4) * h)
    cv2.rectangle(img, (wx, wy), (wx + ww, wy + wh), (235, 240, 250), -1)  # a bright window
    cv2.rectangle(img, (wx, wy), (wx + ww, wy + wh), (wall * 0.5).tolist(), 6)
    cv2.line(img, (wx + ww // 2, wy), (wx + ww // 2, wy + wh), (wall * 0.5).tolist(), 4)
    dx = int(rng.uniform(0.65, 0.9) * w)
    cv2.rectangle(img, (dx, int(0.15 * h)), (dx + int(0.16 * w), floor_y), (rng.uniform(70, 160, 3)).tolist(), -1)
    for _ in range(int(rng.integers(2, 5))):  # shelves with books
        sx, sy = int(rng.uniform(0, 0.8) * w), int(rng.uniform(0.3, 0.7) * h)
        sw = int(rng.uniform(0.1, 0.25) * w)
        cv2.rectangle(img, (sx, sy), (sx + sw, sy + 6), (wall * 0.45).tolist(), -1)
        x = sx
        while x < sx + sw - 6:
            bw = int(rng.integers(5, 14))
            cv2.rectangle(img, (x, sy - int(rng.integers(18, 40))), (x + bw, sy), rng.uniform(30, 220, 3).tolist(), -1)
            x += bw + 1
    texture = cv2.GaussianBlur(rng.normal(0, 6, (h // 4, w // 4)).astype(np.float32), (0, 0), 1.5)
    img += cv2.resize(texture, (w, h))[..., None]
    return cv2.GaussianBlur(img, (0, 0), 1.6)


class Camera:
    """Exposure that drifts and flickers (mains light, auto-exposure), a fixed white balance, sensor noise."""

    def __init__(self, rng: np.random.Generator, *, fps: float, noise: float = 2.2) -> None:
        self.rng = rng
        self.fps = fps
        self.phase = rng.uniform(0, 2 * math.pi, 2)
        balance = rng.uniform(0.94, 1.06, 3).astype(np.float32)
        self.response = self._vignette() * balance  # fixed per camera: white balance and lens falloff
        w, h = SIZE
        # Fresh noise every frame: random crops of a few noise fields (drawing 1M normals per frame is slow).
        self.noise = [rng.standard_normal((h + 24, w + 24, 3), dtype=np.float32) * noise for _ in range(3)]

    @staticmethod
    def _vignette() -> np.ndarray:
        w, h = SIZE
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        r2 = ((xs - w / 2) / (w / 2)) ** 2 + ((ys - h / 2) / (h / 2)) ** 2
        return (1 - 0.12 * r2)[..., None]

    def shoot(self, scene: np.ndarray, index: int) -> np.ndarray:
        """The frame the camera delivers (uint8 RGB) for a scene lit as given (float32 RGB)."""
        t = index / self.fps
        gain = (
            1
            + 0.025 * math.sin(2 * math.pi * 0.35 * t + self.phase[0])
            + 0.012 * math.sin(2 * math.pi * 2.3 * t + self.phase[1])
        )
        w, h = SIZE
        oy, ox = (int(v) for v in self.rng.integers(0, 24, 2))
        flip = int(self.rng.integers(0, 2))
        noise = self.noise[int(self.rng.integers(0, 3))][oy : oy + h, ox : ox + w]
        out = scene * self.response
        out *= np.float32(gain)
        out += noise[:, ::-1] if flip else noise
        np.clip(out, 0, 255, out=out)
        return out.astype(np.uint8)
