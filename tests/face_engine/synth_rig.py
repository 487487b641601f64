"""The rig: a portrait's landmarks moved in 3-D and the image warped after them.

Part of ``tests/face_engine/synthetic.py`` (see its docstring and ``docs/synthetic-video.md``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import cv2
import numpy as np

from tests.face_engine.synth_faces import Frame, Portrait

# Extra depth of each landmark above a generic ellipsoid, in half face widths:
# the nose sticks out, the eyes sit in their sockets, the lips are a little forward.
_FEATURE_DEPTH = np.zeros(68, np.float32)
_FEATURE_DEPTH[27:31] = (0.12, 0.22, 0.32, 0.45)
_FEATURE_DEPTH[31:36] = (0.18, 0.26, 0.32, 0.26, 0.18)
_FEATURE_DEPTH[36:48] = -0.08
_FEATURE_DEPTH[48:68] = 0.06
_FEATURE_DEPTH[17:27] = 0.02

_RIGHT_EYE = np.arange(36, 42)  # the person's right eye: image left
_LEFT_EYE = np.arange(42, 48)
_INNER_MOUTH = np.arange(60, 68)


@dataclass(frozen=True)
class Pose:
    """One frame's head pose and expression. Angles in degrees; amounts in 0..1."""

    yaw: float = 0.0  # + : nose toward the image's right (the user's own left)
    pitch: float = 0.0  # + : nose down
    roll: float = 0.0  # + : clockwise in the image
    dx: float = 0.0
    dy: float = 0.0
    scale: float = 1.0
    blink: float = 0.0
    smile: float = 0.0
    mouth: float = 0.0
    gain: float = 1.0


class FaceRig:
    """Renders a portrait under a ``Pose``: 3-D landmark motion plus a piecewise-affine warp."""

    # Warp maps are computed every ``map_step`` pixels and interpolated (1: exact).
    map_step = 2

    def __init__(self, face: Portrait) -> None:
        self.face = face
        self.image = face.image
        h, w = self.image.shape[:2]
        self.size = (w, h)
        lm = face.landmarks.astype(np.float64)
        hw = (lm[16, 0] - lm[0, 0]) / 2
        self.hw = hw
        self.axis = np.array([(lm[0, 0] + lm[16, 0]) / 2, (lm[0, 1] + lm[16, 1]) / 2])
        # Forehead: above the brows, so turning moves the forehead with the face.
        brows = lm[[17, 19, 21, 22, 24, 26]]
        forehead = brows - np.array([0.0, 0.55 * hw])
        head = np.vstack([lm, forehead])
        u = (head[:, 0] - self.axis[0]) / hw
        v = (head[:, 1] - self.axis[1]) / hw
        depth = 0.95 * np.sqrt(np.clip(1 - (u / 1.05) ** 2 - 0.12 * v**2, 0.0, None))
        depth[:68] += _FEATURE_DEPTH
        depth[68:] -= 0.05
        self.head = head
        self.depth = depth * hw
        self.camera = 10.0 * hw  # distance of the head's centre from the camera, in pixels
        # A ring around the head moves with its position but not its rotation (the outline of
        # a turning head barely changes); a wider ring and the frame border stay put.
        # The ring follows the head's own outline (its support in each direction plus a margin),
        # so a tilted or off-centre face never has a landmark close to it, where a turn would
        # fold the triangles between them.
        centre = head.mean(0)
        angles = np.linspace(0, 2 * np.pi, 20, endpoint=False)
        directions = np.stack([np.cos(angles), np.sin(angles)], 1)
        reach = ((head - centre) @ directions.T).max(0)[:, None]
        ring = centre + directions * (reach + 0.4 * hw)
        outer = centre + directions * (reach * 1.9 + 0.6 * hw)
        outer = np.clip(outer, 1, [w - 2, h - 2])
        border = np.array(
            [(x, y) for x in (0, w / 2, w - 1) for y in (0, h / 2, h - 1) if (x, y) != (w / 2, h / 2)]
            + [(w / 4, 0), (3 * w / 4, 0), (w / 4, h - 1), (3 * w / 4, h - 1), (0, h / 4), (0, 3 * h / 4)]
            + [(w - 1, h / 4), (w - 1, 3 * h / 4)]
        )
        self.n_head = len(head)
        self.n_ring = len(ring)
        self.base = np.vstack([head, ring, outer, border]).astype(np.float64)
        from scipy.spatial import Delaunay

        self.triangles = Delaunay(self.base).simplices.astype(np.int32)
        self.skin = self._skin_colour()
        ys, xs = np.mgrid[0:h, 0:w]
        self._xs = xs.astype(np.float32)
        self._ys = ys.astype(np.float32)

    def _skin_colour(self) -> np.ndarray:
        lm = self.face.landmarks
        samples = []
        for eye in (_RIGHT_EYE, _LEFT_EYE):
            c = lm[eye].mean(0)
            ew = lm[eye[3], 0] - lm[eye[0], 0]
            x0, y0 = int(c[0] - 0.3 * ew), int(c[1] + 0.55 * ew)
            patch = self.image[y0 : y0 + max(2, int(0.35 * ew)), x0 : x0 + max(2, int(0.6 * ew))]
            samples.append(patch.reshape(-1, 3))
        return np.median(np.vstack(samples), 0).astype(np.float32)

    # -- landmarks

    def head_points(self, pose: Pose) -> tuple[np.ndarray, np.ndarray]:
        """Destination of the head points (landmarks + forehead) and their depth toward the camera."""
        pts = self.head.copy()
        lm = pts[:68]
        hw = self.hw
        # Expressions first, in the frontal face.
        if pose.blink > 0:
            for upper, lower in (((37, 38), (41, 40)), ((43, 44), (47, 46))):
                up, lo = lm[list(upper)].copy(), lm[list(lower)].copy()
                closed = lo + 0.15 * (up - lo)
                lm[list(upper)] = up + pose.blink * (closed - up)
                lm[list(lower)] = lo + pose.blink * 0.25 * (closed - lo)
        mw = lm[54, 0] - lm[48, 0]
        if pose.smile > 0:
            s = pose.smile
            for i, side in ((48, -1), (60, -1), (54, 1), (64, 1)):
                lm[i] += s * np.array([side * 0.14 * mw, -0.10 * mw])
            for i, side in ((49, -1), (59, -1), (53, 1), (55, 1), (61, -1), (67, -1), (63, 1), (65, 1)):
                lm[i] += s * np.array([side * 0.06 * mw, -0.04 * mw])
            for i in (4, 5, 11, 12):  # the cheeks widen a little
                lm[i, 0] += s * 0.03 * mw * (1 if i > 8 else -1)
        if pose.mouth > 0:
            m = pose.mouth
            drop = 0.42 * mw * m
            for i in (56, 57, 58, 65, 66, 67):
                lm[i, 1] += drop
            for i in (55, 59):
                lm[i, 1] += 0.75 * drop
            for i in (54, 48, 64, 60):
                lm[i, 1] += 0.3 * drop
            for i, k in ((8, 0.8), (7, 0.75), (9, 0.75), (6, 0.55), (10, 0.55), (5, 0.3), (11, 0.3)):
                lm[i, 1] += k * drop
        # Then the head's rotation about its centre, with a weak perspective camera.
        d = self.camera
        z = self.depth.copy()
        rel = pts - self.axis
        rel = rel * ((d - z) / d)[:, None]  # un-project the frontal view
        x, y = rel[:, 0], rel[:, 1]
        a, b, c = math.radians(pose.yaw), math.radians(pose.pitch), math.radians(pose.roll)
        x, z = x * math.cos(a) + z * math.sin(a), -x * math.sin(a) + z * math.cos(a)
        y, z = y * math.cos(b) + z * math.sin(b), -y * math.sin(b) + z * math.cos(b)
        x, y = x * math.cos(c) - y * math.sin(c), x * math.sin(c) + y * math.cos(c)
        k = d / (d - z) * pose.scale
        out = np.stack([x * k, y * k], 1) + self.axis + np.array([pose.dx, pose.dy])
        _ = hw
        return out, z

    # -- image

    def render(self, pose: Pose, noise: np.ndarray | None = None) -> Frame:
        head, z = self.head_points(pose)
        n = self.n_head
        ring = self.base[n : n + self.n_ring]
        ring = (ring - self.axis) * pose.scale + self.axis + np.array([pose.dx, pose.dy])
        dst = np.vstack([head, ring, self.base[n + self.n_ring :]])
        out = self._warp(dst, z)
        self._paint_eyes(out, head, pose.blink)
        self._paint_mouth(out, head, pose.mouth)
        return _camera(out, pose.gain, noise)

    def _warp(self, dst: np.ndarray, z: np.ndarray) -> np.ndarray:
        src = self.base
        tri = self.triangles
        w, h = self.size
        moved = np.abs(dst - src).max(1) > 1e-3
        active = moved[tri].any(1)
        tri = tri[active]
        if len(tri) == 0:
            return self.image.copy()
        # The destination region to recompute: every pixel of a moved triangle.
        corners = np.vstack([dst[tri.ravel()], src[tri.ravel()]])
        x0, y0 = np.floor(corners.min(0)).astype(int)
        x1, y1 = np.ceil(corners.max(0)).astype(int)
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1 + 1, w), min(y1 + 1, h)
        # Affine map destination -> source for each triangle, all at once.
        q = dst[tri]  # T x 3 x 2
        p = src[tri]
        qh = np.concatenate([q, np.ones((len(tri), 3, 1))], 2)  # T x 3 x 3
        det = np.linalg.det(qh)
        ok = np.abs(det) > 1e-6
        maps = np.zeros((len(tri), 2, 3))
        maps[:, 0, 0] = maps[:, 1, 1] = 1.0
        maps[ok] = np.transpose(np.linalg.solve(qh[ok], p[ok]), (0, 2, 1))
        # Rasterise triangle ids far to near, so a nearer triangle hides what it folds over.
        k = self.map_step
        x0, y0 = x0 - x0 % k, y0 - y0 % k
        gw, gh = (x1 - x0 + k - 1) // k, (y1 - y0 + k - 1) // k
        full_depth = np.full(len(src), -1e9)
        full_depth[: len(z)] = z
        order = np.argsort(full_depth[tri].mean(1), kind="stable")
        label = np.full((gh, gw), -1, np.int32)
        shift = 4
        offset = np.array([x0, y0]) + (k - 1) / 2
        grid_q = ((q - offset) / k * (1 << shift)).round().astype(np.int32)
        for t in order:
            if ok[t]:
                cv2.fillConvexPoly(label, grid_q[t], int(t), lineType=cv2.LINE_8, shift=shift)
        xs = self._xs[:gh, :gw] * k + np.float32(offset[0])
        ys = self._ys[:gh, :gw] * k + np.float32(offset[1])
        hit = label >= 0
        coef = maps.reshape(-1, 6).astype(np.float32)[np.where(hit, label, 0)]  # h x w x 6
        mx = np.where(hit, coef[..., 0] * xs + coef[..., 1] * ys + coef[..., 2], xs)
        my = np.where(hit, coef[..., 3] * xs + coef[..., 4] * ys + coef[..., 5], ys)
        x1, y1 = min(x0 + k * gw, w), min(y0 + k * gh, h)
        if k > 1:
            mx = cv2.resize(mx, (k * gw, k * gh), interpolation=cv2.INTER_LINEAR)
            my = cv2.resize(my, (k * gw, k * gh), interpolation=cv2.INTER_LINEAR)
        mx, my = mx[: y1 - y0, : x1 - x0], my[: y1 - y0, : x1 - x0]
        out = self.image.copy()
        out[y0:y1, x0:x1] = cv2.remap(self.image, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        return out

    def _paint_eyes(self, out: np.ndarray, head: np.ndarray, blink: float) -> None:
        if blink < 0.3:
            return
        alpha = min(1.0, (blink - 0.3) / 0.5)
        lash = self.skin * 0.25
        for eye in (_RIGHT_EYE, _LEFT_EYE):
            pts = head[eye]
            ew = pts[3, 0] - pts[0, 0]
            x0, y0 = np.floor(pts.min(0) - 0.3 * ew).astype(int)
            x1, y1 = np.ceil(pts.max(0) + 0.3 * ew).astype(int)
            x0, y0 = max(x0, 0), max(y0, 0)
            roi = out[y0:y1, x0:x1].astype(np.float32)
            if roi.size == 0:
                continue
            mask = np.zeros(roi.shape[:2], np.float32)
            cv2.fillPoly(mask, [np.round((pts - (x0, y0)) * 16).astype(np.int32)], 1.0, cv2.LINE_AA, 4)
            mask = cv2.GaussianBlur(mask, (0, 0), max(0.6, ew * 0.04))[..., None] * alpha
            roi = roi * (1 - mask) + self.skin * mask
            line = np.zeros(roi.shape[:2], np.float32)
            lid = np.round((pts[[0, 1, 2, 3]] - (x0, y0)) * 16).astype(np.int32)
            cv2.polylines(line, [lid], False, 1.0, max(2, round(ew * 0.09)), cv2.LINE_AA, 4)
            line = line[..., None] * alpha * 0.9
            roi = roi * (1 - line) + lash * line
            out[y0:y1, x0:x1] = np.clip(roi, 0, 255).astype(np.uint8)

    def _paint_mouth(self, out: np.ndarray, head: np.ndarray, mouth: float) -> None:
        if mouth < 0.05:
            return
        inner = head[_INNER_MOUTH]
        mw = head[54, 0] - head[48, 0]
        x0, y0 = np.floor(inner.min(0) - 0.2 * mw).astype(int)
        x1, y1 = np.ceil(inner.max(0) + 0.2 * mw).astype(int)
        x0, y0 = max(x0, 0), max(y0, 0)
        roi = out[y0:y1, x0:x1].astype(np.float32)
        if roi.size == 0:
            return
        off = np.array([x0, y0])
        mask = np.zeros(roi.shape[:2], np.float32)
        cv2.fillPoly(mask, [np.round((inner - off) * 16).astype(np.int32)], 1.0, cv2.LINE_AA, 4)
        mask = cv2.GaussianBlur(mask, (0, 0), max(0.7, mw * 0.02))[..., None] * min(1.0, mouth * 1.5)
        roi = roi * (1 - mask) + np.array([70, 28, 32], np.float32) * mask
        # Upper teeth just under the upper lip.
        opening = max(0.0, float(head[66, 1] - head[62, 1]))
        teeth_h = min(opening * 0.3, 0.09 * mw)
        if teeth_h >= 1:
            upper = head[[60, 61, 62, 63, 64]] - off
            inset = np.array([[0.25, 0], [0.1, 0], [0, 0], [-0.1, 0], [-0.25, 0]]) * (upper[4, 0] - upper[0, 0])
            lower = (upper + inset + np.array([0.0, teeth_h]))[::-1]
            poly = np.vstack([upper[[0, 1, 2, 3, 4]] + inset * 0.6, lower])
            tmask = np.zeros(roi.shape[:2], np.float32)
            cv2.fillPoly(tmask, [np.round(poly * 16).astype(np.int32)], 1.0, cv2.LINE_AA, 4)
            tmask = cv2.GaussianBlur(tmask, (0, 0), 0.8)[..., None] * min(1.0, mouth * 1.5) * 0.85
            roi = roi * (1 - tmask) + np.array([225, 220, 205], np.float32) * tmask
        out[y0:y1, x0:x1] = np.clip(roi, 0, 255).astype(np.uint8)


def _camera(image: np.ndarray, gain: float, noise: np.ndarray | None) -> Frame:
    """Exposure flicker and sensor noise, as a webcam adds them."""
    if noise is None and abs(gain - 1.0) < 1e-4:
        return image
    out = image.astype(np.int16)
    if abs(gain - 1.0) >= 1e-4:
        out = (out * gain).astype(np.int16)
    if noise is not None:
        out += noise
    return np.clip(out, 0, 255).astype(np.uint8)


class _Wobble:
    """Smooth, seeded pseudo-random motion: a sum of slow sinusoids per channel."""

    def __init__(self, rng: np.random.Generator, channels: int) -> None:
        self.freq = rng.uniform(0.15, 1.2, (channels, 3))
        self.phase = rng.uniform(0, 2 * np.pi, (channels, 3))
        self.weight = rng.uniform(0.5, 1.0, (channels, 3))
        self.weight /= self.weight.sum(1, keepdims=True)

    def __call__(self, t: float) -> np.ndarray:
        return (self.weight * np.sin(2 * np.pi * self.freq * t + self.phase)).sum(1)


@functools.lru_cache(maxsize=4)
def _noise_bank(sigma: float, h: int, w: int) -> list[np.ndarray]:
    rng = np.random.default_rng(1234)
    return [np.round(rng.normal(0, sigma, (h + 32, w + 32, 3))).astype(np.int16) for _ in range(4)]


def sensor_noise(rng: np.random.Generator, sigma: float, h: int, w: int) -> np.ndarray:
    """Sensor noise for one frame: a random crop of a few cached fields (drawing fresh noise is slow)."""
    oy, ox = rng.integers(0, 32, 2)
    return _noise_bank(sigma, h, w)[int(rng.integers(0, 4))][oy : oy + h, ox : ox + w]


@functools.lru_cache(maxsize=16)
def _rig(face: Portrait) -> FaceRig:
    return FaceRig(face)
