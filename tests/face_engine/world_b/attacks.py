"""World B's presentation attacks, filmed in the same kind of room by the same kind of camera.

* ``print``: a photo of the person printed with a white border, held up and
  moved rigidly: swept and tilted up to 30 degrees about both axes, rolled,
  shifted; at the moments a live person would turn or nod, the attacker tilts
  it that way;
* ``bent_print``: the same print curved about its vertical axis as a hand
  holds paper, waved and tilted;
* ``screen``: the photo on a phone held up: a black bezel, the display's
  gamma and tint, RGB sub-pixel stripes that alias into moire, a glare on
  the glass;
* ``replay``: a recorded live session of the person, answering *other*
  challenges, played on that screen;
* ``frozen``: one live frame delivered again and again (only JPEG
  re-encoding differs);
* ``face_swap``: one person answers the first challenges, another the rest
  (at least the last one: the swap happens before the capture is complete).

Pictures are flat meshes (bent ones curved) rendered with the same z-buffer
and perspective camera as the heads.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import cv2
import numpy as np

from .actor import LivePerson, _Sway, performance
from .faces import PEOPLE
from .head import FOCAL
from .raster import rasterize
from .scene import SIZE, Camera, room

ATTACKS: tuple[str, ...] = ("print", "bent_print", "screen", "replay", "frozen", "face_swap")
_OTHER = {"turn_left": "turn_right", "turn_right": "turn_left"}


def _photo(live: LivePerson, t: float = 0.0) -> np.ndarray:
    """A head-and-shoulders photo cropped from a camera frame of ``live`` (uint8 RGB)."""
    frame = live.camera.shoot(live.scene(t), 0)
    return _crop(frame, live)


def _crop(frame: np.ndarray, live: LivePerson) -> np.ndarray:
    mid, iod = live.head.mid, live.head.iod
    x0, x1 = int(max(0, mid[0] - 2.3 * iod)), int(min(SIZE[0], mid[0] + 2.3 * iod))
    y0, y1 = int(max(0, mid[1] - 2.4 * iod)), int(min(SIZE[1], mid[1] + 3.2 * iod))
    return np.ascontiguousarray(frame[y0:y1, x0:x1])


def print_texture(photo: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Ink on paper: softer, less contrast and saturation, a warm paper white border."""
    tex = cv2.GaussianBlur(photo, (0, 0), 0.9).astype(np.float32)
    grey = tex.mean(2, keepdims=True)
    tex = 0.85 * (0.85 * tex + 0.15 * grey) + 22
    border = int(0.06 * photo.shape[1])
    paper = rng.uniform(228, 245) * np.array([1.0, 0.99, 0.95])
    return cv2.copyMakeBorder(
        np.clip(tex, 0, 255), border, border, border, border, cv2.BORDER_CONSTANT, value=paper.tolist()
    )


def screen_texture(photo: np.ndarray, rng: np.random.Generator, *, dots: int = 3) -> np.ndarray:
    """A display showing ``photo``: each screen pixel drawn as R, G, B stripes (``dots`` texels), a bezel."""
    tex = (photo.astype(np.float32) / 255.0) ** float(rng.uniform(0.8, 0.9)) * 255.0
    tex *= np.array([0.93, 0.99, 1.07], np.float32) * float(rng.uniform(0.9, 1.05))
    h, w = tex.shape[:2]
    big = cv2.resize(tex, (w * dots, h * dots), interpolation=cv2.INTER_NEAREST)
    stripes = np.zeros((1, dots * w, 3), np.float32)
    for c in range(3):
        stripes[0, c::dots, c] = 1.0
    big = big * (0.45 + 0.55 * stripes) * 1.35
    rows = np.ones((dots * h, 1, 1), np.float32)
    rows[dots - 1 :: dots] = 0.7  # the dark gap between pixel rows
    big = np.clip(big * rows, 0, 255)
    bezel = int(0.07 * big.shape[1])
    return cv2.copyMakeBorder(
        big, bezel, int(bezel * 1.6), bezel, int(bezel * 1.6), cv2.BORDER_CONSTANT, value=(14, 14, 16)
    )


class Picture:
    """A flat (or bent) picture in front of the camera: a mesh over its texture, posed rigidly."""

    def __init__(self, tex_size: tuple[int, int], *, face_iod: float, target_iod: float, bend: float = 0.0) -> None:
        tw, th = tex_size
        self.size = tex_size
        self.f = FOCAL * SIZE[0]
        self.distance = self.f * face_iod / target_iod  # texels: the face appears ``target_iod`` px wide
        step = max(tw, th) / 40
        xs = np.linspace(0, tw - 1, max(2, int(tw / step)))
        ys = np.linspace(0, th - 1, max(2, int(th / step)))
        gx, gy = np.meshgrid(xs, ys)
        ny, nx = gx.shape
        idx = np.arange(ny * nx).reshape(ny, nx)
        a, b, c, d = idx[:-1, :-1].ravel(), idx[:-1, 1:].ravel(), idx[1:, :-1].ravel(), idx[1:, 1:].ravel()
        self.tris = np.concatenate([np.stack([a, b, d], 1), np.stack([a, d, c], 1)])
        self.tex = np.stack([gx.ravel(), gy.ravel()], 1)
        x = self.tex[:, 0] - tw / 2
        y = self.tex[:, 1] - th / 2
        # Bent: the sheet curves about its vertical axis, edges ``bend`` x half-width toward the camera.
        z = -bend * (tw / 2) * (x / (tw / 2)) ** 2
        self.points = np.stack([x, y, z], 1)

    def render(
        self, texture: np.ndarray, *, yaw: float, pitch: float, roll: float, dx: float, dy: float, scale: float = 1.0
    ) -> tuple[np.ndarray, np.ndarray]:
        a, b, c = (math.radians(v) for v in (yaw, pitch, roll))
        ry = np.array([[math.cos(a), 0, -math.sin(a)], [0, 1, 0], [math.sin(a), 0, math.cos(a)]])
        rx = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
        rz = np.array([[math.cos(c), -math.sin(c), 0], [math.sin(c), math.cos(c), 0], [0, 0, 1]])
        pts = self.points @ (rz @ rx @ ry).T
        z = pts[:, 2] + self.distance / scale
        w, h = SIZE
        proj = np.stack([self.f * pts[:, 0] / z + w / 2 + dx, self.f * pts[:, 1] / z + h / 2 + dy], 1)
        half = (w // 2, h // 2)
        out, covered = rasterize(proj * 0.5 - 0.25, z, self.tex, self.tris, half)
        maps = cv2.resize(out, (w, h), interpolation=cv2.INTER_LINEAR)
        cov = cv2.resize(covered.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
        safe = np.maximum(cov, 1e-6)
        mx = (maps[..., 0] / safe).astype(np.float32)
        my = (maps[..., 1] / safe).astype(np.float32)
        img = cv2.remap(texture, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return img.astype(np.float32), np.clip(cov, 0, 1)


class _Hand:
    """How an attacker moves a picture: sweeps and wobble, plus tilts timed like a live person's actions."""

    def __init__(self, rng: np.random.Generator, *, sweep: float, timeline: Sequence[tuple[str, float, float, float]]):
        self.sway = _Sway(rng, 6)
        self.sweep_yaw = sweep * float(rng.uniform(10, 30))
        self.sweep_pitch = sweep * float(rng.uniform(5, 20))
        self.freq = rng.uniform(0.25, 0.55, 2)
        self.phase = rng.uniform(0, 2 * math.pi, 2)
        self.timeline = timeline

    def __call__(self, t: float) -> dict[str, float]:
        s = self.sway(t)
        yaw = self.sweep_yaw * math.sin(2 * math.pi * self.freq[0] * t + self.phase[0]) + 3 * s[0]
        pitch = self.sweep_pitch * math.sin(2 * math.pi * self.freq[1] * t + self.phase[1]) + 2.5 * s[1]
        for name, start, end, amount in self.timeline:
            if start < t < end:
                x = (t - start) / (end - start)
                level = math.sin(math.pi * x) ** 0.6
                yaw += {"turn_left": amount, "turn_right": -amount}.get(name, 0.0) * level
                pitch += (amount if name == "nod" else 0.0) * level
        return {
            "yaw": max(-30.0, min(30.0, yaw)),
            "pitch": max(-30.0, min(30.0, pitch)),
            "roll": 5 * s[2],
            "dx": 18 * s[3],
            "dy": 12 * s[4],
            "scale": 1 + 0.05 * s[5],
        }


def _timeline(
    challenges: Sequence[str], rng: np.random.Generator
) -> tuple[list[tuple[str, float, float, float]], float]:
    """When a live person would perform each challenge; the attacker tilts at those times."""
    t = float(rng.uniform(1.0, 1.5))
    out = []
    for name in challenges:
        length = float(rng.uniform(1.1, 1.6))
        out.append((name, t, t + length, float(rng.uniform(22, 30)) if name != "nod" else float(rng.uniform(15, 22))))
        t += length + float(rng.uniform(0.8, 1.2))
    return out, max(t + 1.2, 6.0)


def picture_attack(
    kind: str, name: str, challenges: Sequence[str], *, seed: int, fps: float = 15.0
) -> Iterator[np.ndarray]:
    """A print, a bent print, a screen showing a photo, or a screen replaying a recorded live session."""
    rng = np.random.default_rng(seed)
    timeline, seconds = _timeline(challenges, rng)
    recorded: LivePerson | None = None
    if kind == "replay":
        other = [_OTHER.get(c, c) for c in challenges if c in _OTHER] + [
            c for c in ("smile", "mouth_open", "blink", "nod") if c not in challenges
        ]
        recorded, length = performance(name, other[:3], seed=seed + 7919, fps=fps)
        photo = _crop(recorded.camera.shoot(recorded.scene(0.0), 0), recorded)
        seconds = max(seconds, length)
    else:
        photo = _photo(LivePerson(name, seed=seed + 7919, fps=fps))
    live_iod = float(rng.uniform(72, 96))
    make = screen_texture if kind in ("screen", "replay") else print_texture
    texture = make(photo, rng)
    dots = texture.shape[1] / photo.shape[1] if kind in ("screen", "replay") else 1.0
    face_iod = (recorded.head.iod if recorded else 84.0) * dots  # the face's eye distance on the picture, in texels
    bend = float(rng.uniform(0.12, 0.3)) * (1 if rng.random() < 0.5 else -1) if kind == "bent_print" else 0.0
    picture = Picture((texture.shape[1], texture.shape[0]), face_iod=face_iod, target_iod=live_iod, bend=bend)
    hand = _Hand(rng, sweep=float(rng.uniform(0.3, 1.0)) if not challenges else 0.25, timeline=timeline)
    backdrop = room(rng)
    camera = Camera(rng, fps=fps)
    glare_phase = float(rng.uniform(0, 2 * math.pi))
    w, h = SIZE
    diagonal = np.linspace(-1, 1, w, dtype=np.float32)[None, :] + 0.5 * np.linspace(-1, 1, h, dtype=np.float32)[:, None]
    for i in range(round(seconds * fps)):
        t = i / fps
        if recorded is not None:
            frame = recorded.camera.shoot(recorded.scene(t), i)
            texture = screen_texture(_crop(frame, recorded), np.random.default_rng(seed))
        motion = hand(t)
        img, alpha = picture.render(texture, **motion)
        if kind in ("screen", "replay"):
            shift = 0.6 * math.sin(0.8 * t + glare_phase) + motion["yaw"] / 60
            img = img + (np.exp(-(((diagonal - shift) / 0.22) ** 2)) * 40)[..., None]
        else:
            img = img * (0.92 + 0.08 * math.cos(math.radians(motion["yaw"])))  # paper catches the room's light
        a = alpha[..., None]
        yield camera.shoot(img * a + backdrop * (1 - a), i)


def frozen_attack(name: str, *, seed: int, seconds: float = 6.0, fps: float = 15.0) -> Iterator[np.ndarray]:
    """One live frame injected again and again; each copy re-encoded at a JPEG quality of 80 to 95."""
    rng = np.random.default_rng(seed)
    live = LivePerson(name, seed=seed, fps=fps)
    still = live.camera.shoot(live.scene(0.5), 0)
    for _ in range(round(seconds * fps)):
        _ok, data = cv2.imencode(".jpg", still[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(80, 96))])
        yield cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1]


def face_swap_attack(
    name: str, challenges: Sequence[str], *, seed: int, other: str | None = None, fps: float = 15.0
) -> Iterator[np.ndarray]:
    """``name`` answers the first half of the challenges (rounded down), ``other`` takes over for the rest."""
    rng = np.random.default_rng(seed)
    if other is None:
        others = [p for p in PEOPLE if p != name]
        other = others[int(rng.integers(len(others)))]
    # The second person answers the last challenge (or the swap comes 1.5 s into a passive hold):
    # a swap after the capture is complete would be no attack at all.
    half = len(challenges) // 2
    first, first_end = performance(name, challenges[:half], seed=seed, fps=fps, tail=0.6)
    second, second_end = performance(other, challenges[half:], seed=seed + 1, fps=fps, lead=0.6)
    second.backdrop = first.backdrop  # the same room: only the person changes
    second.camera = first.camera
    if not challenges:
        first_end, second_end = 1.5, 4.5
    n1 = round(first_end * fps)
    for i in range(n1):
        yield first.camera.shoot(first.scene(i / fps), i)
    for j in range(round(second_end * fps)):
        yield second.camera.shoot(second.scene(j / fps), n1 + j)
