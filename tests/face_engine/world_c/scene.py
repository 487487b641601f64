"""World C's office and webcam: a procedural, defocused office backdrop and a fixed camera's faults.

The backdrop is not a room model: it is painted as a photographer's blurred
background would look, a wall with a vertical light gradient, a window with
venetian blinds, a fabric cubicle partition, a poster and a plant, then
defocused. The camera adds a white balance and vignetting per clip, slow
auto-exposure drift, shot and read noise, and the webcam's own mild MJPEG.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .photos import H, W


def office(rng: np.random.Generator) -> np.ndarray:
    """A defocused office behind the sitter (float32 RGB, H x W x 3)."""
    ys = np.linspace(0.0, 1.0, H, dtype=np.float32)[:, None, None]
    wall = np.array(rng.choice([[196, 188, 172], [170, 178, 184], [205, 200, 190], [160, 168, 150]]), np.float32)
    img = wall * (1.08 - 0.25 * ys) * np.ones((H, W, 1), np.float32)  # ceiling lights from above
    img += rng.normal(0, 3.0, (H, W, 1)).astype(np.float32)  # plaster
    side = int(rng.integers(2))
    wx = int(rng.uniform(20, 90)) if side == 0 else int(rng.uniform(430, 520))
    wy, ww, wh = int(rng.uniform(30, 80)), int(rng.uniform(110, 170)), int(rng.uniform(150, 230))
    sky = np.array([235, 240, 248], np.float32) * float(rng.uniform(0.95, 1.08))
    img[wy : wy + wh, wx : wx + ww] = sky
    slat = max(int(rng.uniform(7, 11)), 2)
    for y in range(wy, wy + wh, slat):
        img[y : y + slat // 2, wx : wx + ww] *= 0.82  # blinds
    img[wy : wy + wh, wx - 4 : wx] = img[wy : wy + wh, wx + ww : wx + ww + 4] = (120, 120, 125)
    top = int(rng.uniform(300, 350))
    fabric = np.array(rng.choice([[92, 104, 128], [110, 110, 104], [70, 96, 104]]), np.float32)
    weave = rng.normal(0, 7.0, (H - top, W, 1)).astype(np.float32)
    img[top:] = fabric + weave
    img[top : top + 6] = (150, 150, 150)  # the partition's aluminium edge
    px, py = int(rng.uniform(150, 420)), int(rng.uniform(40, 110))
    poster = rng.uniform(60, 220, 3).astype(np.float32)
    img[py : py + int(rng.uniform(60, 90)), px : px + int(rng.uniform(45, 70))] = poster
    plant_x = int(rng.uniform(20, 120)) if side == 1 else int(rng.uniform(520, 620))
    for _ in range(14):
        cx, cy = plant_x + rng.normal(0, 28), top - abs(rng.normal(0, 45))
        r = float(rng.uniform(8, 18))
        cv2.circle(
            img, (int(cx), int(cy)), int(r), tuple(float(c) for c in rng.uniform([30, 80, 30], [70, 130, 60])), -1
        )
    return cv2.GaussianBlur(img, (0, 0), float(rng.uniform(3.5, 6.0)))


class Webcam:
    """A fixed webcam: white balance, vignetting, exposure drift, noise and the camera's own JPEG."""

    def __init__(self, rng: np.random.Generator, fps: float = 15.0) -> None:
        self.fps = fps
        self.gain = rng.uniform(0.94, 1.06, 3).astype(np.float32)
        yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
        r2 = ((xx - W / 2) ** 2 + (yy - H / 2) ** 2) / (W / 2) ** 2
        self.vignette = (1.0 - float(rng.uniform(0.08, 0.16)) * r2)[..., None].astype(np.float32)
        self.drift = rng.uniform(0.05, 0.25, 2), rng.uniform(0, 2 * math.pi, 2)
        self.read_noise = float(rng.uniform(1.5, 2.5))
        self.quality = int(rng.integers(90, 96))
        self.rng = np.random.default_rng(int(rng.integers(1 << 31)))

    def shoot(self, scene: np.ndarray, i: int) -> np.ndarray:
        """The scene (float32 RGB) as frame ``i`` (uint8 RGB)."""
        t = i / self.fps
        freq, phase = self.drift
        exposure = (
            1.0
            + 0.02 * math.sin(2 * math.pi * freq[0] * t + phase[0])
            + 0.01 * math.sin(2 * math.pi * freq[1] * t + phase[1])
        )
        img = scene * (self.gain * exposure) * self.vignette
        noise = self.rng.standard_normal(img.shape, dtype=np.float32)
        img += noise * np.sqrt(self.read_noise**2 + 0.02 * np.maximum(img, 0.0))
        out = np.clip(img, 0, 255).astype(np.uint8)
        _ok, data = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        return cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
