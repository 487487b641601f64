"""Blinks, smiles and open mouths as displacement fields on the photo (nothing painted but the mouth's gap).

Each is a backward map: a pixel of the changed face takes the photo's colour
from where that skin came from. A blink slides the upper lid's texture down
over the eye (the lid's margin and lashes travel to the lower lid; the skin
between crease and margin stretches); a smile carries the mouth corners out
and up; an open mouth drops the lower lip and the jaw, and the gap that opens
between the lips is the only part darkened (the mouth's cavity).
"""

from __future__ import annotations

import cv2
import numpy as np

from .photos import Sitter


def _curve(pts: np.ndarray, x: np.ndarray) -> np.ndarray:
    order = np.argsort(pts[:, 0])
    return np.interp(x, pts[order, 0], pts[order, 1])


def _lid(pts: np.ndarray, x: np.ndarray) -> np.ndarray:
    """A lid's margin as the parabola through its landmarks (lids are smooth arcs, not polylines)."""
    a, b, c = np.polyfit(pts[:, 0], pts[:, 1], 2)
    return a * x * x + b * x + c


def _blink(s: Sitter, xs: np.ndarray, ys: np.ndarray, level: float) -> np.ndarray:
    """Vertical source offset (px, added to y) closing both eyes by ``level`` (0..1)."""
    off = np.zeros_like(ys)
    m = s.marks
    for upper, lower in (([36, 37, 38, 39], [39, 40, 41, 36]), ([42, 43, 44, 45], [45, 46, 47, 42])):
        x = xs[0]
        inside = (x > m[upper, 0].min()) & (x < m[upper, 0].max())
        y_u = _lid(m[upper], x)
        y_l = _lid(m[lower], x)
        gap = np.maximum(y_l - y_u, 0.0)
        margin = y_u - 0.12 * gap  # the lid's edge with its lashes, just above the landmarks
        target = y_l - 0.05 * gap  # where it closes: on the lower lid's edge
        top = y_u - 0.32 * s.iod  # the crease: above it nothing moves
        edge = margin + level * (target - margin)
        span = np.maximum(edge - top, 1e-3)
        src = top + (ys - top) * (margin - top) / span
        moving = inside[None, :] & (ys >= top[None, :]) & (ys <= edge[None, :])
        off = np.where(moving, src - ys, off)
    return off


def _smile(s: Sitter, xs: np.ndarray, ys: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    m = s.marks
    width = float(np.linalg.norm(m[54] - m[48]))
    dx, dy = np.zeros_like(xs), np.zeros_like(ys)
    for i, sign in ((48, -1.0), (54, 1.0)):
        g = np.exp(-0.5 * ((xs - m[i, 0]) ** 2 + (ys - m[i, 1]) ** 2) / (0.42 * width) ** 2)
        dx -= level * sign * 0.14 * width * g
        dy += level * 0.10 * width * g
    return dx, dy


def _mouth(s: Sitter, xs: np.ndarray, ys: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Source offset in y and the cavity's opacity for a mouth opened by ``level`` (0..1)."""
    m = s.marks
    x = xs[0]
    line = 0.5 * (_curve(m[[60, 61, 62, 63, 64]], x) + _curve(m[[64, 65, 66, 67, 60]], x))
    xc, half = 0.5 * (m[48, 0] + m[54, 0]), 0.5 * (m[54, 0] - m[48, 0])
    drop = level * 0.26 * s.iod
    lips = np.sqrt(np.clip(1.0 - ((x - xc) / half) ** 2, 0.0, 1.0)) ** 0.7
    jaw = np.exp(-0.5 * ((x - xc) / (0.75 * s.iod)) ** 2)
    below = np.clip((ys - line[None, :]) / (0.3 * s.iod), 0.0, 1.0)
    fade = np.clip(1.0 - (ys - m[8, 1]) / (0.35 * s.iod), 0.0, 1.0)
    d = drop * np.maximum(lips[None, :], jaw[None, :] * below) * fade
    d = np.where(ys >= line[None, :], d, 0.0)
    src = ys - d
    cavity = np.clip((line[None, :] - src) / 1.5, 0.0, 1.0) * (lips[None, :] > 0) * (ys >= line[None, :])
    return np.maximum(src, np.where(ys >= line[None, :], line[None, :], src)) - ys, cavity


def expressive(s: Sitter, blink: float = 0.0, smile: float = 0.0, mouth: float = 0.0) -> np.ndarray:
    """The sitter's photo with the expression applied (float32 RGB; the photo itself when neutral)."""
    if blink <= 0 and smile <= 0 and mouth <= 0:
        return s.image
    m = s.marks
    pad = int(0.5 * s.iod)
    x0, y0 = int(m[:, 0].min()) - pad, int(m[17:27, 1].min()) - pad
    x1, y1 = int(m[:, 0].max()) + pad, int(m[8, 1]) + pad
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, s.image.shape[1]), min(y1, s.image.shape[0])
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    dx, dy = np.zeros_like(xs), np.zeros_like(ys)
    cavity = None
    if blink > 0:
        dy += _blink(s, xs, ys, min(blink, 1.0))
    if smile > 0:
        sx, sy = _smile(s, xs, ys, smile)
        dx += sx
        dy += sy
    if mouth > 0:
        my, cavity = _mouth(s, xs, ys, mouth)
        dy += my
    out = s.image.copy()
    patch = cv2.remap(s.image, (xs + dx).astype(np.float32), (ys + dy).astype(np.float32), cv2.INTER_LINEAR)
    if cavity is not None:
        dark = 0.15 * patch + np.array([30.0, 10.0, 12.0], np.float32)
        patch = patch + (cavity[..., None] * min(1.0, 2.5 * mouth)).astype(np.float32) * (dark - patch)
    out[y0:y1, x0:x1] = patch
    return out
