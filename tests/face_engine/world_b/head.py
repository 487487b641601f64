"""A textured 3-D head lifted from a photo, posed and rendered with perspective and a z-buffer.

The mesh is a regular grid of vertices over the person (head, neck,
shoulders) on the photo's canvas. Each vertex gets a depth from an
anthropometric head model in inter-ocular distances (IOD), measured toward
the camera from the head's centre plane:

* a flattened ellipsoid skull, 1.25 IOD deep in front of its centre at the
  eyes: cheeks recede, the jaw angles and ears lie at the centre plane
  (about 1.1 IOD behind the eyes);
* a nose ridge from the nasion to the tip, scaled so the tip stands 0.4 IOD
  in front of the eye centres, widening toward the nostrils;
* eye sockets 0.12 IOD deep, a brow ridge, lips and chin slightly forward;
* neck and shoulders behind the face; the head turns on the neck (skinning
  weights fade from the chin down), the shoulders only sway.

Vertices are lifted along the camera's rays, so the rest pose re-renders the
photo exactly; any other pose shows the parallax a real head shows: the nose
moves against the cheeks, the far cheek is hidden behind the nose.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import cv2
import numpy as np

from .faces import Person, face_frame
from .paint import paint_blink, slide_blink
from .raster import rasterize

FOCAL = 1.1  # focal length in frame widths: a webcam's ~50 degrees of horizontal view
NOSE_TIP_IOD = 0.4  # the nose tip in front of the eye centres


@dataclass(frozen=True)
class HeadPose:
    yaw: float = 0.0  # degrees; > 0: the person turns to their own left (nose toward the image's right)
    pitch: float = 0.0  # degrees; > 0: head down
    roll: float = 0.0  # degrees, in the image plane
    dx: float = 0.0  # whole-person shift, IOD
    dy: float = 0.0
    dz: float = 0.0  # toward (-) or away from (+) the camera, IOD
    blink: float = 0.0  # 0 open .. 1 lids closed
    smile: float = 0.0  # 0 .. 1
    mouth: float = 0.0  # 0 closed .. 1 open


def _gauss(x: np.ndarray, y: np.ndarray, sx: float, sy: float) -> np.ndarray:
    return np.exp(-0.5 * ((x / sx) ** 2 + (y / sy) ** 2))


class Head:
    """One person's mesh, ready to render in any pose at ``scale`` of the canvas resolution."""

    def __init__(self, person: Person, *, step: float = 0.065, scale: float = 0.5) -> None:
        self.person = person
        self.scale = scale
        h, w = person.image.shape[:2]
        self.size = (w, h)
        self.f = FOCAL * w
        self.mid, self.iod, self.axes = face_frame(person.marks)
        self._grid(step * self.iod)
        self._lift()
        self._expressions()

    # -- building ---------------------------------------------------------------------------------

    def _face_uv(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d = pts - self.mid
        return d @ self.axes[0] / self.iod, d @ self.axes[1] / self.iod

    def _grid(self, step: float) -> None:
        w, h = self.size
        xs = np.arange(0, w + step, step)
        ys = np.arange(0, h + step, step)
        gx, gy = np.meshgrid(np.minimum(xs, w - 1), np.minimum(ys, h - 1))
        mask = cv2.dilate((self.person.mask > 0.02).astype(np.uint8), np.ones((3, 3), np.uint8), iterations=int(step))
        inside = mask[gy.astype(int), gx.astype(int)] > 0
        ny, nx = gx.shape
        idx = np.arange(ny * nx).reshape(ny, nx)
        a, b, c, d = idx[:-1, :-1], idx[:-1, 1:], idx[1:, :-1], idx[1:, 1:]
        ok = inside[:-1, :-1] & inside[:-1, 1:] & inside[1:, :-1] & inside[1:, 1:]
        tris = np.concatenate([np.stack([a[ok], b[ok], d[ok]], 1), np.stack([a[ok], d[ok], c[ok]], 1)])
        used = np.unique(tris)
        remap = np.full(ny * nx, -1)
        remap[used] = np.arange(len(used))
        self.tris = remap[tris]
        self.tex = np.stack([gx.ravel()[used], gy.ravel()[used]], 1).astype(np.float64)
        self.alpha = self.person.mask[self.tex[:, 1].astype(int), self.tex[:, 0].astype(int)].astype(np.float64)

    def _depth(self, u: np.ndarray, v: np.ndarray, nose_gain: float) -> tuple[np.ndarray, np.ndarray]:
        """Depth toward the camera (IOD, from the head's centre plane) and the head's skinning weight."""
        marks = self.person.marks
        mu, mv = self._face_uv(marks)
        chin = float(mv[8])
        skull = (u / 1.2) ** 2 + ((v + 0.2) / 2.3) ** 2
        d = 1.25 * np.sqrt(np.clip(1 - np.minimum(skull, 1) ** 1.3, 0, 1))
        d -= 0.12 * (_gauss(u + 0.5, v, 0.22, 0.18) + _gauss(u - 0.5, v, 0.22, 0.18))  # eye sockets
        d += 0.05 * _gauss(u, v + 0.38, 0.6, 0.1)  # brow ridge
        mouth_u, mouth_v = float(mu[48:68].mean()), float(mv[48:68].mean())
        d += 0.07 * _gauss(u - mouth_u, v - mouth_v, 0.4, 0.18)  # lips
        d += 0.05 * _gauss(u - float(mu[8]), v - chin + 0.15, 0.3, 0.2)  # chin
        # The nose: a ridge from the nasion (27) to the tip (30), widening to the nostrils.
        n0 = np.array([mu[27], mv[27]])
        n1 = np.array([mu[30], mv[30]])
        axis = n1 - n0
        length = float(np.linalg.norm(axis)) or 1.0
        along = ((u - n0[0]) * axis[0] + (v - n0[1]) * axis[1]) / length**2
        lateral = ((u - n0[0]) * axis[1] - (v - n0[1]) * axis[0]) / length
        s = np.clip(along, 0, None)
        profile = np.where(along <= 1, np.clip(along, 0, 1) ** 0.8, np.exp(-(((along - 1) * length / 0.16) ** 2)))
        width = 0.07 + 0.13 * np.clip(s, 0, 1.2)
        ridge = profile * np.exp(-0.5 * (lateral / width) ** 2)
        d += nose_gain * ridge
        # Below the chin: the neck (0.5 IOD behind the chin), then the shoulders.
        below = np.clip((v - chin) / 0.9, 0, 1)
        weight = 1.0 - below
        inside_head = skull < 1.0
        neck_d = 0.25
        d = np.where(inside_head, np.maximum(d * weight + neck_d * (1 - weight), neck_d * (1 - weight)), neck_d)
        d = np.where(v > chin + 0.9, 0.1, d)
        weight = np.where(inside_head | (v < chin), weight, np.clip(1 - (v - chin) / 0.9, 0, 1) * (v > 0))
        return d, weight

    def _lift(self) -> None:
        mu, mv = self._face_uv(self.person.marks)
        eyes_u = np.array([mu[36:42].mean(), mu[42:48].mean()])
        eyes_v = np.array([mv[36:42].mean(), mv[42:48].mean()])
        eye_d = float(self._depth(eyes_u, eyes_v, 0.0)[0].mean())
        tip_d = float(self._depth(mu[30:31], mv[30:31], 0.0)[0][0])
        nose_gain = eye_d + NOSE_TIP_IOD - tip_d  # the ridge peaks at 1.0 at the tip
        u, v = self._face_uv(self.tex)
        self.u, self.v = u, v
        d, self.weight = self._depth(u, v, nose_gain)
        self.z_eyes = self.f / self.iod  # the eye plane's distance, in IOD
        self.z_centre = self.z_eyes + eye_d
        zp = self.z_centre - d
        w, h = self.size
        self.cx, self.cy = w / 2, h / 2
        self.rest = np.stack(
            [(self.tex[:, 0] - self.cx) * zp / self.f, (self.tex[:, 1] - self.cy) * zp / self.f, zp], 1
        )
        pu, pv = 0.0, 0.9  # the pivot: on the neck axis, at the head's centre plane
        pivot_px = self.mid + pu * self.iod * self.axes[0] + pv * self.iod * self.axes[1]
        self.pivot = np.array(
            [
                (pivot_px[0] - self.cx) * self.z_centre / self.f,
                (pivot_px[1] - self.cy) * self.z_centre / self.f,
                self.z_centre,
            ]
        )

    def _expressions(self) -> None:
        m = self.person.marks
        px_to_iod = self.rest[:, 2:3] / self.f  # canvas pixels at each vertex's depth, in IOD
        mw = float(np.linalg.norm(m[54] - m[48]))
        across, down = self.axes
        disp = np.zeros_like(self.tex)
        for corner, out in ((m[48], -across), (m[54], across)):
            g = np.exp(-0.5 * np.sum((self.tex - corner) ** 2, 1) / (0.28 * mw) ** 2)[:, None]
            disp += g * (0.14 * mw * out - 0.09 * mw * down)
        self.smile_disp = np.concatenate([disp * px_to_iod, np.zeros((len(disp), 1))], 1)
        # Mouth opening: everything below the lip line (the lower lip, chin, jaw) drops.
        mu, mv = self._face_uv(m)
        lip_v = float(mv[[61, 62, 63, 65, 66, 67]].mean())
        chin_v = float(mv[8])
        below = (self.v > lip_v) & (np.abs(self.u - float(mu[62])) < 1.05)
        fade = np.clip(1 - (self.v - chin_v) / 0.8, 0, 1) * np.exp(-0.5 * ((self.u - float(mu[62])) / 0.5) ** 2)
        drop = (below * fade)[:, None] * (0.3 * self.iod * down)
        self.mouth_disp = np.concatenate([drop * px_to_iod, np.zeros((len(drop), 1))], 1)
        self._mouth_cut(below, mw)

    def _mouth_cut(self, below: np.ndarray, mouth_width: float) -> None:
        """The mesh opened along the lips: triangles across the lip line get their own vertices, textured
        with the dark of the mouth's inside, so a dropping jaw opens a cavity instead of stretching lips."""
        m = self.person.marks
        centre = m[60:68].mean(0)
        near = np.abs((self.tex - centre) @ self.axes[0]) < 0.5 * mouth_width
        straddle = below[self.tris].any(1) & ~below[self.tris].all(1) & near[self.tris].all(1)
        cut = self.tris[straddle]
        used = np.unique(cut)
        first = len(self.tex)
        remap = np.full(first, -1)
        remap[used] = first + np.arange(len(used))
        self.tris_open = np.concatenate([self.tris[~straddle], remap[cut]])
        self.cavity_at = np.array([3.0, 3.0])  # a corner of the canvas outside the person: painted dark
        self.tex = np.concatenate([self.tex, np.tile(self.cavity_at, (len(used), 1))])
        for name in ("rest", "smile_disp", "mouth_disp"):
            arr = getattr(self, name)
            setattr(self, name, np.concatenate([arr, arr[used]]))
        self.weight = np.concatenate([self.weight, self.weight[used]])
        self.alpha = np.concatenate([self.alpha, self.alpha[used]])

    # -- rendering --------------------------------------------------------------------------------

    def vertices(self, pose: HeadPose) -> np.ndarray:
        v = self.rest + pose.smile * self.smile_disp + pose.mouth * self.mouth_disp
        a, b, c = (math.radians(x) for x in (pose.yaw, pose.pitch, pose.roll))
        ry = np.array([[math.cos(a), 0, -math.sin(a)], [0, 1, 0], [math.sin(a), 0, math.cos(a)]])
        rx = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
        rz = np.array([[math.cos(c), -math.sin(c), 0], [math.sin(c), math.cos(c), 0], [0, 0, 1]])
        rot = rz @ rx @ ry
        turned = (v - self.pivot) @ rot.T + self.pivot
        wgt = self.weight[:, None]
        out = wgt * turned + (1 - wgt) * v
        return out + np.array([pose.dx, pose.dy, pose.dz])

    def texture(self, pose: HeadPose) -> np.ndarray:
        """The photo with this frame's eyelids and mouth cavity painted in."""
        img = self.person.image
        if pose.blink <= 0.02 and pose.mouth <= 0.02:
            return img
        img = img.copy()
        if pose.blink > 0.02:
            blink = slide_blink if os.environ.get("WORLD_B_BLINK") == "slide" else paint_blink
            blink(img, self.person.marks, pose.blink, self.iod)
        if pose.mouth > 0.02:
            x, y = self.cavity_at.astype(int)
            img[y - 3 : y + 4, x - 3 : x + 4] = (48, 20, 24)
        return img

    def render(self, pose: HeadPose) -> tuple[np.ndarray, np.ndarray]:
        """The person in ``pose`` at canvas resolution: (RGB float32 image, alpha 0..1)."""
        verts = self.vertices(pose)
        z = verts[:, 2]
        proj = np.stack([self.f * verts[:, 0] / z + self.cx, self.f * verts[:, 1] / z + self.cy], 1)
        s = self.scale
        w, h = self.size
        small = (round(w * s), round(h * s))
        attrs = np.concatenate([self.tex, self.alpha[:, None]], 1)
        tris = self.tris_open if pose.mouth > 0.02 else self.tris
        out, covered = rasterize(proj * s + 0.5 * s - 0.5, z, attrs, tris, small)
        maps = cv2.resize(out, (w, h), interpolation=cv2.INTER_LINEAR)
        cov = cv2.resize(covered.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
        alpha = np.clip(maps[..., 2], 0, 1)
        mx = np.where(cov > 0, maps[..., 0] / np.maximum(cov, 1e-6), 0).astype(np.float32)
        my = np.where(cov > 0, maps[..., 1] / np.maximum(cov, 1e-6), 0).astype(np.float32)
        img = cv2.remap(self.texture(pose), mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        return img.astype(np.float32), alpha
