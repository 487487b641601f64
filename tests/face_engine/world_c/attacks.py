"""World C's presentation attacks, each filmed by a world-C webcam in front of a world-C office.

* ``print``: the person's rest-pose frame printed with a white border and
  held up: moved rigidly by a wobbling hand, tilted in perspective up to 30
  degrees, and tilted the way a head would move at each turn or nod asked;
* ``bent_print``: the same print curved like held paper (a cylinder);
* ``screen``: the photo on a phone: RGB sub-pixel stripes and row gaps that
  alias into moire, display gamma and tint, a black bezel, a reflection of
  the room and a glare that slide as the phone tilts;
* ``replay``: that phone playing a world-C live recording of the person
  answering *other* challenges;
* ``frozen``: one frame sent again and again, re-encoded as JPEG each time;
* ``face_swap``: one person answers the first half of the challenges
  (rounded down) and another the rest; in a passive hold the second steps in
  after about 1.5 s. Same office, same camera.

Held pictures are cards rendered backwards like the heads: every pixel's ray
is intersected analytically with the card (a plane, or a cylinder for a bent
print) and the texture sampled where it lands.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import cv2
import numpy as np

from .performer import Move, Performer, Sway, draw_move, perform
from .photos import H, W, cast_of
from .relief import FOCAL, Pose

ATTACKS: tuple[str, ...] = ("print", "bent_print", "screen", "replay", "frozen", "face_swap")


def rest_photo(p: Performer) -> np.ndarray:
    """The person at rest, photographed by the webcam and cropped to head and shoulders (uint8 RGB)."""
    scale, p.sway_scale = p.sway_scale, 0.0
    frame = p.camera.shoot(p.scene(0.0), 0)
    p.sway_scale = scale
    mid, iod = p.sitter.mid, p.sitter.iod
    x0, x1 = int(max(0, mid[0] - 2.2 * iod)), int(min(W, mid[0] + 2.2 * iod))
    y0, y1 = int(max(0, mid[1] - 2.5 * iod)), int(min(H, mid[1] + 3.0 * iod))
    return np.ascontiguousarray(frame[y0:y1, x0:x1])


def printed(photo: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Inkjet on paper: dot gain (a little blur), compressed range, a paper-white border."""
    ink = cv2.GaussianBlur(photo.astype(np.float32), (0, 0), float(rng.uniform(0.7, 1.2)))
    ink = 18.0 + 0.84 * (0.88 * ink + 0.12 * ink.mean(2, keepdims=True))
    b = int(rng.uniform(0.05, 0.08) * photo.shape[1])
    paper = np.array([242.0, 240.0, 232.0], np.float32) * float(rng.uniform(0.95, 1.0))
    out = np.empty((photo.shape[0] + 2 * b, photo.shape[1] + 2 * b, 3), np.float32)
    out[:] = paper
    out[b:-b, b:-b] = ink
    return out


def screen_texture(content: np.ndarray, gamma: float, px_w: int = 200) -> np.ndarray:
    """``content`` on a phone display: each phone pixel three RGB stripes over two lit rows and a dark one."""
    px_h = round(px_w * content.shape[0] / content.shape[1])
    small = cv2.resize(content.astype(np.float32), (px_w, px_h), interpolation=cv2.INTER_AREA)
    small = 255.0 * (small / 255.0) ** gamma * np.array([0.94, 0.98, 1.06], np.float32)
    tex = np.repeat(np.repeat(small, 3, 0), 3, 1)
    stripe = np.full((1, 3 * px_w, 3), 0.78, np.float32)
    for c in range(3):
        stripe[0, c::3, c] = 1.45  # each colour lit in its own third of the pixel
    tex *= stripe
    tex[2::3] *= 0.7 / 1.15  # the gap between pixel rows
    tex *= 1.15
    border = int(0.08 * tex.shape[1])
    out = np.full((tex.shape[0] + 2 * border, tex.shape[1] + 2 * border, 3), 12.0, np.float32)
    out[border:-border, border:-border] = tex
    return out


def card_maps(
    shape: tuple[int, int], width: float, centre: np.ndarray, pose: Pose, radius: float = math.inf
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Texture x, y for every frame pixel of a card ``width`` px wide at ``centre`` (3-D, px units), and a normal.

    The card is a plane or, with ``radius``, a cylinder about its vertical axis (bulging toward the camera).
    """
    th, tw = shape
    rot = pose.rotation()
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float32)
    d = np.stack([(xs - W / 2) / FOCAL, (ys - H / 2) / FOCAL, np.ones_like(xs)])
    dl = np.tensordot(rot.T, d, 1)
    o = rot.T @ (-centre)
    if math.isinf(radius):
        t = -o[2] / dl[2]
        x, y = o[0] + t * dl[0], o[1] + t * dl[1]
        s = x
        nl = np.stack([np.zeros_like(x), np.zeros_like(x), -np.ones_like(x)])
    else:  # the cylinder x^2 + (z - radius)^2 = radius^2, nearest hit
        a = dl[0] ** 2 + dl[2] ** 2
        b = 2 * (o[0] * dl[0] + (o[2] - radius) * dl[2])
        c = o[0] ** 2 + (o[2] - radius) ** 2 - radius**2
        disc = np.maximum(b * b - 4 * a * c, 0.0)
        t = (-b - np.sqrt(disc)) / (2 * a)
        x, y = o[0] + t * dl[0], o[1] + t * dl[1]
        s = radius * np.arcsin(np.clip(x / radius, -1, 1))  # arc length: the paper does not stretch
        z = o[2] + t * dl[2]
        nl = np.stack([x, np.zeros_like(x), z - radius]) / radius
    tex_x = (s / width + 0.5) * tw - 0.5
    tex_y = (y / width) * tw + 0.5 * th - 0.5
    n = np.tensordot(rot, nl, 1)
    return tex_x.astype(np.float32), tex_y.astype(np.float32), n


def _draw(tex: np.ndarray, mx: np.ndarray, my: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    img = cv2.remap(tex, mx, my, cv2.INTER_LINEAR)
    inside = cv2.remap(np.ones(tex.shape[:2], np.float32), mx, my, cv2.INTER_LINEAR, borderValue=0.0)
    return img, inside


class Hand:
    """How an attacker holds a picture: a wobble, and tilts timed like a live person's moves."""

    def __init__(self, rng: np.random.Generator, moves: Sequence[Move], motion: float = 1.0) -> None:
        self.sway = Sway(rng)
        self.moves = moves
        self.motion = motion
        self.base = Pose(
            yaw=float(rng.uniform(-12, 12)),
            pitch=float(rng.uniform(-10, 10)),
            roll=float(rng.uniform(-6, 6)),
            dx=float(rng.uniform(-30, 30)),
            dy=float(rng.uniform(-40, 0)),
        )

    def pose(self, t: float) -> Pose:
        s = self.sway(t) * self.motion
        yaw, pitch = self.base.yaw + 9 * s[0], self.base.pitch + 7 * s[1]
        for m in self.moves:
            k = m.level(t)
            if m.name in ("turn_left", "turn_right"):
                yaw += (1 if m.name == "turn_left" else -1) * m.amount * k
            elif m.name == "nod":
                pitch += m.amount * k
        yaw, pitch = max(-30.0, min(30.0, yaw)), max(-30.0, min(30.0, pitch))
        return Pose(yaw, pitch, self.base.roll + 4 * s[2], self.base.dx + 12 * s[3], self.base.dy + 10 * s[4])


def _schedule(rng: np.random.Generator, acts: Sequence[str]) -> tuple[list[Move], float]:
    t = float(rng.uniform(1.0, 1.6))
    moves = []
    for name in acts:
        moves.append(draw_move(name, t, rng))
        t = moves[-1].end + float(rng.uniform(0.9, 1.4))
    return moves, (t + 0.3 if acts else 6.0)


def picture_attack(
    kind: str, name: str, acts: Sequence[str], *, seed: int = 0, fps: float = 15.0
) -> Iterator[np.ndarray]:
    """``print``, ``bent_print``, ``screen`` or ``replay`` of ``name``, held up in front of a webcam."""
    rng = np.random.default_rng([seed, 0xA77])
    subject = Performer(name, seed=seed + 1, fps=fps)
    stage = Performer(name, seed=seed + 2, fps=fps)  # only its office, camera and light: nobody sits there
    moves, seconds = _schedule(rng, acts)
    live, length = subject, 1
    if kind == "replay":
        others = [c for c in ("smile", "mouth_open", "turn_right", "blink", "nod", "turn_left") if c not in acts][:2]
        live, end = perform(name, others, seed=seed + 3, fps=fps)
        length = round(end * fps)
        moves = []  # the attacker only holds the phone; the recording does the moving

    def recorded(j: int) -> np.ndarray:  # the recording's frame j, looped
        j %= length
        return live.camera.shoot(live.scene(j / fps), j)

    hand = Hand(rng, moves, motion=float(rng.uniform(0.5, 1.0)))
    iod = subject.sitter.iod
    glossy = float(rng.uniform(0.0, 0.06))
    gamma = float(rng.uniform(0.8, 0.95))  # the display's
    radius = float(rng.uniform(1.2, 2.5)) * iod * 4.4 if kind == "bent_print" else math.inf
    if kind in ("print", "bent_print"):
        tex = printed(rest_photo(subject), rng)
        width = tex.shape[1] / (1 + 2 * 0.065) * float(rng.uniform(0.9, 1.15))  # face about life size
    elif kind == "screen":
        tex = screen_texture(rest_photo(subject), gamma)
        width = 4.4 * iod * 1.16 * float(rng.uniform(0.85, 1.1))
    elif kind == "replay":
        tex = screen_texture(_portrait(recorded(0), live), gamma)
        width = 4.4 * iod * 1.16 * float(rng.uniform(0.85, 1.1))
    else:
        raise ValueError(f"not a picture attack: {kind!r}")
    reflection = cv2.GaussianBlur(stage.backdrop[:, ::-1], (0, 0), 9.0)
    centre0 = np.array([subject.sitter.mid[0] - W / 2, subject.sitter.mid[1] - H / 2 + 0.4 * iod, FOCAL])
    for i in range(round(seconds * fps)):
        t = i / fps
        pose = hand.pose(t)
        centre = centre0 + np.array([pose.dx, pose.dy, 0.0])
        if kind == "replay":
            tex = screen_texture(_portrait(recorded(i), live), gamma)
        mx, my, n = card_maps(tex.shape[:2], width, centre, pose, radius)
        img, inside = _draw(tex, mx, my)
        if kind in ("print", "bent_print"):
            lit = 0.6 + 0.4 * np.maximum(np.tensordot(stage.light, n, 1), 0.0) / 0.75
            img *= np.clip(lit, 0.6, 1.15)[..., None].astype(np.float32)
            img += glossy * 255 * np.clip(-n[2], 0, 1)[..., None] ** 40
        else:  # glass: the room's reflection and a glare band that slide with the tilt
            refl = np.roll(reflection, (round(6 * pose.pitch), round(-6 * pose.yaw)), (0, 1))
            img = img + 0.07 * refl
            band = np.exp(-0.5 * ((mx + 0.6 * my - tex.shape[1] * (0.5 + pose.yaw / 40)) / (0.12 * tex.shape[1])) ** 2)
            img += (28.0 * band)[..., None].astype(np.float32)
        frame = stage.backdrop + inside[..., None] * (img - stage.backdrop)
        yield stage.camera.shoot(frame, i)


def _portrait(frame: np.ndarray, live: Performer) -> np.ndarray:
    """A recorded frame as a phone shows it in portrait: cropped around the face, 3:4."""
    mid = live.sitter.mid
    h = H
    w = int(0.75 * h)
    x0 = int(min(max(mid[0] - w / 2, 0), W - w))
    return frame[:, x0 : x0 + w]


def frozen_attack(name: str, acts: Sequence[str] = (), *, seed: int = 0, fps: float = 15.0) -> Iterator[np.ndarray]:
    """One live frame over and over, JPEG re-encoded at a random quality each time."""
    rng = np.random.default_rng([seed, 0xF0])
    p = Performer(name, seed=seed + 1, fps=fps)
    _, seconds = _schedule(rng, acts)
    still = p.camera.shoot(p.scene(float(rng.uniform(0.0, 2.0))), 0)
    for _ in range(round(seconds * fps)):
        _ok, data = cv2.imencode(".jpg", still, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(80, 96))])
        yield cv2.imdecode(data, cv2.IMREAD_UNCHANGED)


def face_swap_attack(name: str, acts: Sequence[str], *, seed: int = 0, fps: float = 15.0) -> Iterator[np.ndarray]:
    """``name`` answers the first half of ``acts`` (rounded down), another person the rest."""
    rng = np.random.default_rng([seed, 0x5A])
    others = [p for p in cast_of(name) if p != name]
    other = others[int(rng.integers(len(others)))]
    first = Performer(name, seed=seed + 1, fps=fps)
    second = Performer(other, seed=seed + 2, fps=fps, backdrop=first.backdrop)
    second.camera, second.light = first.camera, first.light
    half = len(acts) // 2
    t = float(rng.uniform(1.0, 1.6))
    for move in acts[:half]:
        t = first.add(move, t).end + float(rng.uniform(0.9, 1.4))
    if acts:
        swap = t - 0.5 if half else float(rng.uniform(1.3, 1.8))
        t = max(t, swap + 0.8)
        for move in acts[half:]:
            t = second.add(move, t).end + float(rng.uniform(0.9, 1.4))
        seconds = t + 0.3
    else:
        swap, seconds = float(rng.uniform(1.3, 1.8)), 6.0
        second.spontaneous_blinks(seconds, 1)
    for i in range(round(seconds * fps)):
        who = first if i / fps < swap else second
        yield who.camera.shoot(who.scene(i / fps), i)
