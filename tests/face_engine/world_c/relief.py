"""The head as a heightfield, rendered in any pose by marching each camera ray into it.

The depth model is analytic, placed by the landmarks (face coordinates u, v
in inter-ocular distances, IOD, from the eye midpoint): a rounded head
whose outline is the jaw (landmarks 0-16) below and an ellipse over the
skull above, receding as ``(1 - r^2)^1/2`` of its normalised radius to
``SILHOUETTE`` behind the eye plane, plus Gaussian features: eye sockets,
corneas, brow ridge, glabella, cheekbones, lips, chin, and a nose ridge
from the nasion (27) to the tip (30) scaled so the tip stands
``NOSE_TIP_IOD`` in front of the eye centres. Each photo pixel lies on its
camera ray at that depth, so the rest pose gives back the photo.

A posed frame is found backwards: every output pixel's ray is carried into
the head's rest frame and marched from in front of the nose to behind the
ears in fixed depth steps; the first step found behind the surface (the
heightfield read through the rest camera) brackets the hit, refined by
bisection. What the ray meets first is what it sees: the nose hides the far
cheek with no z-buffer. The photo is then sampled there with ``cv2.remap``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import cv2
import numpy as np

from .photos import H, Sitter, W

NOSE_TIP_IOD = 0.40  # anthropometric: pronasale about 25 mm in front of the pupils, IOD about 63 mm
SILHOUETTE = 1.3  # the head's outline (jaw angles, ears) lies this far behind its centre's front
FRONT = 0.15  # the face's front at nose level, before features
FOCAL = 1.1 * W  # px: a webcam's ~50 degree field of view
MISS = -10.0  # height outside the head: no ray meets it
STEPS, REFINE = 28, 6
NEAR, FAR = -0.62, 1.45  # IOD in front of / behind the eye plane marched


def _gauss(u: np.ndarray, v: np.ndarray, cu: float, cv: float, su: float, sv: float) -> np.ndarray:
    return np.exp(-0.5 * (((u - cu) / su) ** 2 + ((v - cv) / sv) ** 2))


def outline_radius(
    s: Sitter, u: np.ndarray, v: np.ndarray, centre_v: float = 0.45, chin_reach: float = 1.0
) -> np.ndarray:
    """Normalised radius (1 on the head's outline) about a centre at nose height."""
    m = s.marks_uv
    centre_u = 0.5 * (m[0, 0] + m[16, 0])  # the head's axis: between the jaw's ends, not the eyes
    jaw = (m[0:17] - [centre_u, centre_v]) * 1.04  # the landmarks sit just inside the jaw's edge
    half = 0.5 * (m[16, 0] - m[0, 0]) * 1.16
    crown = 2.05 + centre_v  # top of the hair above the centre
    a = np.linspace(0.0, np.pi, 121)
    c = np.cos(a)
    skull = np.stack([half * np.sign(c) * np.abs(c) ** 0.75, -crown * np.sin(a) ** 0.75], 1)  # a superellipse
    # Each side's temple joins its jaw end over 0.4 IOD of height, so the outline has no step.
    top = np.where(skull[:, 0] < 0, jaw[0, 1], jaw[16, 1]) - 0.4
    skull = skull[skull[:, 1] < top]
    ring = np.concatenate([jaw, skull])
    ang = np.arctan2(ring[:, 1], ring[:, 0])
    rad = np.hypot(ring[:, 0], ring[:, 1])
    order = np.argsort(ang)
    ang, rad = ang[order], rad[order]
    ang = np.concatenate([ang - 2 * np.pi, ang, ang + 2 * np.pi])
    rad = np.concatenate([rad, rad, rad])
    pu, pv = u - centre_u, v - centre_v
    phi = np.arctan2(pv, pu)
    # For the depth, the face's front runs down to the chin: only the sides recede (chin_reach > 1).
    return np.hypot(pu, pv) / (np.interp(phi, ang, rad) * (1.0 + (chin_reach - 1.0) * np.maximum(np.sin(phi), 0) ** 8))


def _nose(m: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Unit-height nose: a ridge from the nasion to the tip, alae and the columella."""
    a, b = m[27], m[30]
    ab = b - a
    t = ((u - a[0]) * ab[0] + (v - a[1]) * ab[1]) / float(ab @ ab)
    tc = np.clip(t, 0.0, 1.0)
    du, dv = u - (a[0] + tc * ab[0]), v - (a[1] + tc * ab[1])
    width = 0.075 + 0.08 * tc
    ridge = (0.2 + 0.8 * tc**1.4) * np.exp(-0.5 * (du**2 + dv**2) / width**2)
    ridge *= np.where(t > 1.0, np.exp(-0.5 * ((t - 1.0) * np.hypot(*ab) / 0.06) ** 2), 1.0)
    alae = sum(0.38 * _gauss(u, v, m[i, 0], m[i, 1] - 0.02, 0.09, 0.08) for i in (31, 35))
    base = 0.45 * _gauss(u, v, m[33, 0], m[33, 1] - 0.03, 0.09, 0.06)
    return np.maximum(ridge, np.maximum(alae, base))


def heights(s: Sitter, u: np.ndarray, v: np.ndarray, nose_scale: float | None = None) -> np.ndarray:
    """Height toward the camera (IOD, 0 = eye plane) of the head at face coordinates (u, v); MISS outside."""
    m = s.marks_uv
    r = outline_radius(s, u, v)
    rd = outline_radius(s, u, v, chin_reach=1.6)
    h = -SILHOUETTE + (SILHOUETTE + FRONT) * np.sqrt(np.clip(1.0 - rd**2, 0.0, 1.0))
    eyes = (m[36:42].mean(0), m[42:48].mean(0))
    for e in eyes:
        h = h - 0.11 * _gauss(u, v, e[0], e[1] - 0.04, 0.27, 0.19)  # socket
        h = h + 0.045 * _gauss(u, v, e[0], e[1], 0.13, 0.07)  # cornea
    for i in range(17, 27):
        h = h + 0.05 * _gauss(u, v, m[i, 0], m[i, 1] + 0.04, 0.13, 0.09)  # brow ridge
    h = h + 0.05 * _gauss(u, v, 0.5 * (m[21, 0] + m[22, 0]), m[27, 1] - 0.12, 0.16, 0.14)  # glabella
    h = h + sum(0.07 * _gauss(u, v, sign * 0.72, 0.45, 0.22, 0.2) for sign in (-1.0, 1.0))  # cheekbones
    mouth = m[48:68].mean(0)
    h = h + 0.07 * _gauss(u, v, mouth[0], mouth[1], 0.4, 0.17)  # lips over the teeth
    h = h + 0.03 * _gauss(u, v, m[51, 0], m[51, 1], 0.25, 0.06) + 0.03 * _gauss(u, v, m[57, 0], m[57, 1], 0.22, 0.06)
    h = h - 0.03 * _gauss(u, v, m[8, 0], 0.5 * (m[57, 1] + m[8, 1]), 0.22, 0.06)  # mentolabial sulcus
    h = h + 0.08 * _gauss(u, v, m[8, 0], m[8, 1] - 0.22, 0.22, 0.14)  # chin
    if nose_scale is None:
        nose_scale = _nose_scale(s)
    h = h + nose_scale * _nose(m, u, v)
    return np.where(r < 1.0, h, MISS)


def _nose_scale(s: Sitter) -> float:
    """The nose's height such that its tip stands NOSE_TIP_IOD in front of the eye centres."""
    m = s.marks_uv
    pts = np.stack([m[30], m[36:42].mean(0), m[42:48].mean(0)])
    bare = heights(s, pts[:, 0], pts[:, 1], nose_scale=0.0)
    unit = _nose(m, pts[:, 0], pts[:, 1])
    return float((NOSE_TIP_IOD - (bare[0] - bare[1:].mean())) / (unit[0] - unit[1:].mean()))


@dataclass(frozen=True)
class Pose:
    yaw: float = 0.0  # degrees, > 0: the person's own left (the nose toward the image's right)
    pitch: float = 0.0  # degrees, > 0: head down
    roll: float = 0.0  # degrees, > 0: clockwise in the image
    dx: float = 0.0  # IOD, the whole person (sway)
    dy: float = 0.0
    dz: float = 0.0

    def rotation(self) -> np.ndarray:
        y, p, r = (math.radians(a) for a in (-self.yaw, self.pitch, self.roll))
        ry = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
        rx = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
        rz = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
        return rz @ rx @ ry


class Relief:
    """One sitter's head as a heightfield on the canvas, with its normals and alpha."""

    def __init__(self, s: Sitter) -> None:
        self.sitter = s
        u, v = s.uv
        self.h = heights(s, u, v).astype(np.float32)
        self.z0 = FOCAL / s.iod  # distance of the eye plane, in IOD
        r = outline_radius(s, u, v)
        self.alpha = np.clip((1.0 - r) / 0.05, 0.0, 1.0).astype(np.float32)
        hs = cv2.GaussianBlur(np.maximum(self.h, -SILHOUETTE), (0, 0), 1.0)
        gx = cv2.Sobel(hs, cv2.CV_32F, 1, 0, ksize=3) / 8.0 * s.iod
        gy = cv2.Sobel(hs, cv2.CV_32F, 0, 1, ksize=3) / 8.0 * s.iod
        n = np.stack([gx, gy, -np.ones_like(gx)], -1)
        self.normals = (n / np.linalg.norm(n, axis=-1, keepdims=True)).astype(np.float32)
        ys, xs = np.nonzero(self.alpha > 0)
        self.box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
        mid = s.mid
        self.pivot = np.array(
            [(mid[0] - W / 2) / s.iod, (mid[1] - H / 2) / s.iod + 0.8, self.z0 + 1.0]
        )  # on the neck's axis, below and behind the eyes

    def march(self, pose: Pose) -> tuple[tuple[int, int, int, int], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Output crop box, and per pixel in it: texture x, y, hit mask and the posed normal."""
        rot = pose.rotation()
        shift = np.array([pose.dx, pose.dy, pose.dz])
        pad = int(0.9 * self.sitter.iod + self.sitter.iod * (abs(pose.dx) + abs(pose.dy)))
        x0, y0, x1, y1 = self.box
        x0, y0, x1, y1 = max(x0 - pad, 0), max(y0 - pad, 0), min(x1 + pad, W), min(y1 + pad, H)
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        d = np.stack([(xs - W / 2) / FOCAL, (ys - H / 2) / FOCAL, np.ones_like(xs)])
        dh = np.tensordot(rot.T, d, 1)  # ray directions in the head's rest frame
        oh = rot.T @ (-self.pivot - shift) + self.pivot  # the camera's centre there

        def behind(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            qx, qy, qz = oh[0] + t * dh[0], oh[1] + t * dh[1], oh[2] + t * dh[2]
            tx = (FOCAL * qx / qz + W / 2).astype(np.float32)
            ty = (FOCAL * qy / qz + H / 2).astype(np.float32)
            hh = cv2.remap(self.h, tx, ty, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=MISS)
            return qz - (self.z0 - hh) >= 0, tx, ty

        prev = (self.z0 + NEAR - oh[2]) / dh[2]
        lo, hi = prev.copy(), prev.copy()
        found = np.zeros(xs.shape, bool)
        for k in range(1, STEPS + 1):
            t = (self.z0 + NEAR + (FAR - NEAR) * k / STEPS - oh[2]) / dh[2]
            inside, _, _ = behind(t)
            new = inside & ~found
            lo[new], hi[new] = prev[new], t[new]
            found |= new
            prev = t
        for _ in range(REFINE):
            mid = 0.5 * (lo + hi)
            inside, _, _ = behind(mid)
            hi = np.where(inside, mid, hi)
            lo = np.where(inside, lo, mid)
        _, tx, ty = behind(hi)
        n = np.stack([cv2.remap(self.normals[..., i], tx, ty, cv2.INTER_LINEAR) for i in range(3)])
        n = np.tensordot(rot, n, 1)
        return (x0, y0, x1, y1), tx, ty, found, n


@functools.lru_cache(maxsize=8)
def relief(s: Sitter) -> Relief:
    return Relief(s)


def shading(normals: np.ndarray, light: np.ndarray, ambient: float = 0.55) -> np.ndarray:
    """Lambert plus ambient for unit normals (3 x ...) and a unit direction toward the light."""
    lam = np.maximum(np.tensordot(light, normals, 1), 0.0)
    return ambient + (1.0 - ambient) * lam
