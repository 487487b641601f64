"""Painting a blink into the photo: upper lids lowered in skin colour, a lash line at their edge."""

from __future__ import annotations

import cv2
import numpy as np


def _curve(points: np.ndarray, xs: np.ndarray) -> np.ndarray:
    order = np.argsort(points[:, 0])
    return np.interp(xs, points[order, 0], points[order, 1])


def _lid_margins(eye: np.ndarray, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The upper and the lower lid's margin at ``xs``, through one eye's six 68-point landmarks."""
    return _curve(eye[[0, 1, 2, 3]], xs), _curve(eye[[3, 4, 5, 0]], xs)


def paint_blink(img: np.ndarray, marks: np.ndarray, amount: float, iod: float) -> None:
    """Lower both upper lids by ``amount`` (1: shut), in skin colour with a lash line at the lid's edge."""
    for eye in (marks[36:42], marks[42:48]):
        x0, x1 = int(np.floor(eye[:, 0].min() - 0.04 * iod)), int(np.ceil(eye[:, 0].max() + 0.04 * iod))
        xs = np.arange(x0, x1 + 1, dtype=np.float64)
        yu, yl = _lid_margins(eye, xs)
        yu, yl = yu - 0.06 * iod, yl + 0.025 * iod
        # Taper the lid toward the eye corners.
        span = np.clip((xs - eye[:, 0].min()) / max(np.ptp(eye[:, 0]), 1.0), 0, 1)
        taper = np.sin(np.pi * span) ** 0.5
        lid = yu + amount * (yl - yu)
        y0, y1 = int(np.floor(yu.min())) - 1, int(np.ceil(yl.max())) + 2
        h, w = img.shape[:2]
        if x0 < 0 or y0 < 0 or x1 >= w or y1 >= h:
            continue
        centre = eye.mean(0)
        sy, sx = int(centre[1] + 0.38 * iod), int(centre[0])
        r = max(2, int(0.1 * iod))
        skin = np.median(img[sy - r : sy + r, sx - 2 * r : sx + 2 * r].reshape(-1, 3), 0).astype(np.float32)
        ys = np.arange(y0, y1 + 1, dtype=np.float64)[:, None]
        cover = np.clip(lid[None, :] - ys, 0, 1) * np.clip(ys - yu[None, :] + 1, 0, 1) * taper[None, :]
        shade = 0.82 + 0.18 * np.clip((lid[None, :] - ys) / max(0.1 * iod, 1), 0, 1)  # darker at the fold
        lash = np.exp(-0.5 * ((ys - lid[None, :]) / max(0.012 * iod, 0.7)) ** 2) * taper[None, :] * min(1, 2 * amount)
        patch = img[y0 : y1 + 1, x0 : x1 + 1].astype(np.float32)
        lidded = skin[None, None, :] * shade[..., None]
        patch = patch * (1 - cover[..., None]) + lidded * cover[..., None]
        patch = patch * (1 - 0.75 * lash[..., None]) + 35 * 0.75 * lash[..., None]
        img[y0 : y1 + 1, x0 : x1 + 1] = np.clip(patch, 0, 255).astype(np.uint8)


def slide_blink(img: np.ndarray, marks: np.ndarray, amount: float, iod: float) -> None:
    """Lower both upper lids by ``amount`` (1: shut) by stretching the skin above them down; nothing painted.

    The band between the lid's crease (0.2 IOD above its margin) and the margin is carried down over the eye,
    as a real upper lid moves: whatever the photo shows there (lashes, a fold, make-up) comes down with it.
    """
    for eye in (marks[36:42], marks[42:48]):
        x0, x1 = int(np.floor(eye[:, 0].min() - 0.03 * iod)), int(np.ceil(eye[:, 0].max() + 0.03 * iod))
        xs = np.arange(x0, x1 + 1, dtype=np.float64)
        yu, yl = _lid_margins(eye, xs)
        crease = yu - 0.2 * iod
        lid = yu + amount * np.maximum(yl - yu, 0.0)
        y0, y1 = int(np.floor(crease.min())) - 1, int(np.ceil(yl.max())) + 2
        h, w = img.shape[:2]
        if x0 < 0 or y0 < 0 or x1 >= w or y1 >= h:
            continue
        ys = np.arange(y0, y1 + 1, dtype=np.float64)[:, None]
        stretch = (yu - crease) / np.maximum(lid - crease, 1e-6)
        src = np.where((ys >= crease) & (ys <= lid), crease + (ys - crease) * stretch, ys)
        map_x = np.broadcast_to(xs[None, :], src.shape).astype(np.float32)
        img[y0 : y1 + 1, x0 : x1 + 1] = cv2.remap(
            img, map_x, src.astype(np.float32), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )
