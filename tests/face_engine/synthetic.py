"""Synthetic face video for the engine's tests, the browser tests and the analysis command.

The only real faces come from what packages ship: ``skimage.data.astronaut()``
and the six people of insightface's ``t1.jpg``. Everything else is made here:

* **live sequences**: a head that turns (yaw), nods (pitch), blinks, smiles and
  opens its mouth. Its 68 dlib landmarks get a depth from a generic face model,
  are rotated in 3-D and projected with a weak perspective; the image follows
  by a piecewise-affine warp over a Delaunay triangulation of the landmarks,
  forehead points, a ring around the head and the frame border. Blinks pull the
  upper lid down onto the lower lid and paint the slit in skin colour; smiles
  move the mouth corners out and up; ``mouth_open`` drops the lower lip and jaw.
  Smooth micro-motion, lighting flicker and sensor noise keep every frame
  different, as a camera's are.
* **attack sequences**: the same photo held up as a print or shown on a phone
  screen (one homography per frame for the whole picture: rigid planar motion),
  a frozen frame (identical apart from JPEG noise) and a face that changes to
  another person mid-sequence.
* **writers**: y4m (4:2:0 with ``FRAME\\n`` headers, as Chromium's
  ``--use-file-for-fake-video-capture`` wants), mp4 (H.264) and webm (VP8) via
  PyAV, a folder of JPEGs, and one JPEG.

Directions are the user's own: ``turn_left`` means the person turns to their own
left, so in the raw, un-mirrored frame the nose moves toward the image's right.

This module imports no Django, so it also works as a command::

    python -m tests.face_engine.synthetic live --actions blink,turn_left -o /tmp/live.y4m
    python -m tests.face_engine.synthetic attack --kind print_moved -o /tmp/print.mp4
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence

import cv2
import numpy as np

from tests.face_engine.synth_faces import (
    FACES,
    T1_PEOPLE,
    Frame,
    Portrait,
    landmarks_of,
    portrait,
    t1_path,
)
from tests.face_engine.synth_rig import FaceRig, Pose, _camera, _rig, _Wobble, sensor_noise
from tests.face_engine.synth_writers import (
    decode_jpeg,
    encode_jpeg,
    read_y4m,
    write_jpeg_folder,
    write_mp4,
    write_video,
    write_webm,
    write_y4m,
)

__all__ = [
    "ACTIONS",
    "ATTACKS",
    "FACES",
    "NOD_DEG",
    "T1_PEOPLE",
    "TURN_DEG",
    "FaceActor",
    "FaceRig",
    "Frame",
    "Portrait",
    "Pose",
    "action_seconds",
    "attack_sequence",
    "decode_jpeg",
    "encode_jpeg",
    "landmarks_of",
    "live_sequence",
    "live_timeline",
    "main",
    "passive_sequence",
    "portrait",
    "read_y4m",
    "sensor_noise",
    "t1_path",
    "write_jpeg_folder",
    "write_mp4",
    "write_video",
    "write_webm",
    "write_y4m",
]

ACTIONS: tuple[str, ...] = ("blink", "turn_left", "turn_right", "nod", "smile", "mouth_open")
ATTACKS: tuple[str, ...] = ("print_moved", "screen_replay", "frozen", "face_swap")

# Peak amplitudes of the actions: large enough for a clear challenge, in the
# range people really move when asked.
TURN_DEG = 28.0
NOD_DEG = 18.0


# Envelopes of each action: (seconds, function of phase 0..1 -> amount 0..1).
def _ramp_hold(up: float, hold: float, down: float) -> tuple[float, object]:
    total = up + hold + down

    def f(x: float) -> float:
        t = x * total
        if t < up:
            return 0.5 - 0.5 * math.cos(math.pi * t / up)
        if t < up + hold:
            return 1.0
        return 0.5 + 0.5 * math.cos(math.pi * min(1.0, (t - up - hold) / down))

    return total, f


_ENVELOPES: dict[str, tuple[float, object]] = {
    "blink": _ramp_hold(0.1, 0.14, 0.16),
    "turn_left": _ramp_hold(0.45, 0.45, 0.45),
    "turn_right": _ramp_hold(0.45, 0.45, 0.45),
    "nod": _ramp_hold(0.35, 0.3, 0.35),
    "smile": _ramp_hold(0.3, 0.7, 0.3),
    "mouth_open": _ramp_hold(0.3, 0.7, 0.3),
}


def action_seconds(action: str) -> float:
    """How long one action takes from start to back at neutral."""
    return float(_ENVELOPES[action][0])


class FaceActor:
    """A person in front of a camera, one frame at a time; ``perform()`` starts an action.

    A scripted client can react to the engine's current challenge::

        actor = FaceActor("astronaut", seed=1)
        frame = actor.frame()                 # neutral, with micro-motion
        actor.perform("turn_left")            # the next frames turn the head
        while actor.busy: frame = actor.frame()

    ``sway`` scales the natural head motion (1.0: about 1 degree and 1.5 px);
    ``noise`` is the sensor noise's standard deviation in grey levels.
    """

    def __init__(
        self,
        face: str | Portrait = "astronaut",
        *,
        fps: float = 15,
        size: tuple[int, int] = (640, 480),
        seed: int = 0,
        sway: float = 1.0,
        noise: float = 2.0,
        face_width: int = 200,
    ) -> None:
        self.portrait = face if isinstance(face, Portrait) else portrait(face, size, face_width)
        self.rig = _rig(self.portrait)
        self.fps = fps
        self.sway = sway
        self.noise = noise
        self.rng = np.random.default_rng(seed)
        self.wobble = _Wobble(self.rng, 7)
        self.index = 0
        self._action: str | None = None
        self._action_start = 0

    @property
    def busy(self) -> bool:
        return self._action is not None

    @property
    def time(self) -> float:
        return self.index / self.fps

    def perform(self, action: str) -> None:
        if action not in _ENVELOPES:
            raise ValueError(f"unknown action {action!r}; one of {ACTIONS}")
        self._action = action
        self._action_start = self.index

    def pose(self) -> Pose:
        t = self.time
        wob = self.wobble(t) * self.sway
        kw: dict[str, float] = {
            "yaw": 1.2 * wob[0],
            "pitch": 1.0 * wob[1],
            "roll": 0.8 * wob[2],
            "dx": 1.5 * wob[3],
            "dy": 1.2 * wob[4],
            "scale": 1.0 + 0.006 * wob[5],
            "gain": 1.0 + 0.015 * self.wobble(t)[6],
        }
        if self._action is not None:
            seconds, envelope = _ENVELOPES[self._action]
            phase = (self.index - self._action_start) / self.fps / seconds
            if phase >= 1.0:
                self._action = None
            else:
                amount = envelope(phase)  # type: ignore[operator]
                a = self._action
                if a == "turn_left":
                    kw["yaw"] += TURN_DEG * amount
                elif a == "turn_right":
                    kw["yaw"] -= TURN_DEG * amount
                elif a == "nod":
                    kw["pitch"] += NOD_DEG * amount
                    kw["dy"] += 0.04 * self.rig.hw * amount
                elif a == "blink":
                    kw["blink"] = amount
                elif a == "smile":
                    kw["smile"] = amount
                elif a == "mouth_open":
                    kw["mouth"] = amount
        return Pose(**kw)

    def frame(self) -> Frame:
        pose = self.pose()
        noise = None
        if self.noise > 0:
            h, w = self.rig.image.shape[:2]
            noise = sensor_noise(self.rng, self.noise, h, w)
        out = self.rig.render(pose, noise)
        self.index += 1
        return out

    def skip(self, frames: int) -> None:
        """Let ``frames`` frames pass without rendering them (cheap: for sampling a performance)."""
        for _ in range(frames):
            self.pose()
            self.index += 1

    def hold(self, seconds: float) -> list[Frame]:
        return [self.frame() for _ in range(round(seconds * self.fps))]

    def act(self, action: str) -> list[Frame]:
        self.perform(action)
        frames = []
        while self.busy:
            frames.append(self.frame())
        return frames


# --------------------------------------------------------------------------- sequences


def live_sequence(
    face: str | Portrait = "astronaut",
    actions: Sequence[str] = ("blink", "turn_left"),
    *,
    fps: float = 15,
    size: tuple[int, int] = (640, 480),
    neutral_s: float = 1.0,
    gap_s: float = 0.7,
    tail_s: float = 0.7,
    seed: int = 0,
    sway: float = 1.0,
) -> list[Frame]:
    """A live person: ``neutral_s`` of holding still, then each action in order with ``gap_s`` between."""
    actor = FaceActor(face, fps=fps, size=size, seed=seed, sway=sway)
    frames = actor.hold(neutral_s)
    for i, action in enumerate(actions):
        if i:
            frames += actor.hold(gap_s)
        frames += actor.act(action)
    frames += actor.hold(tail_s)
    return frames


def live_timeline(
    actions: Sequence[str], *, neutral_s: float = 1.0, gap_s: float = 0.7
) -> list[tuple[str, float, float]]:
    """When each action of ``live_sequence`` starts and ends, in seconds (same defaults)."""
    out, t = [], neutral_s
    for i, action in enumerate(actions):
        if i:
            t += gap_s
        out.append((action, t, t + action_seconds(action)))
        t += action_seconds(action)
    return out


def passive_sequence(
    face: str | Portrait = "astronaut",
    seconds: float = 3.0,
    *,
    fps: float = 15,
    size: tuple[int, int] = (640, 480),
    seed: int = 0,
    sway: float = 2.5,
    blink_at_s: float | None = 1.3,
) -> list[Frame]:
    """A person holding still for ``seconds``: natural sway (a few degrees) and one natural blink."""
    actor = FaceActor(face, fps=fps, size=size, seed=seed, sway=sway)
    frames: list[Frame] = []
    total = round(seconds * fps)
    blink_frame = None if blink_at_s is None else round(blink_at_s * fps)
    while len(frames) < total:
        if len(frames) == blink_frame:
            actor.perform("blink")
        frames.append(actor.frame())
    return frames


def _background(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A plain room: a wall gradient with a few soft shapes (no face)."""
    w, h = size
    top = rng.uniform(150, 200, 3)
    bottom = top * rng.uniform(0.55, 0.75)
    ramp = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    bg = (top * (1 - ramp) + bottom * ramp) * np.ones((1, w, 1), np.float32)
    for _ in range(5):
        x, y = rng.integers(0, w), rng.integers(0, h)
        bw, bh = rng.integers(w // 10, w // 3), rng.integers(h // 10, h // 2)
        colour = rng.uniform(60, 220, 3)
        cv2.rectangle(bg, (int(x), int(y)), (int(x + bw), int(y + bh)), colour.tolist(), -1)
    bg = cv2.GaussianBlur(bg, (0, 0), 9)
    return np.clip(bg, 0, 255).astype(np.uint8)


def _print_texture(image: np.ndarray) -> np.ndarray:
    """A glossy photo print: softer, a little less contrast, with a white border."""
    tex = cv2.GaussianBlur(image, (0, 0), 0.8).astype(np.float32)
    grey = tex.mean(2, keepdims=True)
    tex = 0.88 * (0.9 * tex + 0.1 * grey) + 18
    tex = cv2.copyMakeBorder(
        np.clip(tex, 0, 255).astype(np.uint8), 18, 18, 18, 18, cv2.BORDER_CONSTANT, value=(236, 236, 230)
    )
    return tex


def _screen_texture(image: np.ndarray) -> np.ndarray:
    """A phone or monitor showing the photo: gamma, cool tint, sub-pixel stripes, a black bezel."""
    tex = (image.astype(np.float32) / 255.0) ** 0.85 * 255.0
    tex *= np.array([0.94, 0.99, 1.06], np.float32)
    h, w = tex.shape[:2]
    # RGB sub-pixel columns and a faint scan pattern: they alias into moire once warped.
    stripes = np.array([1.0, 0.88, 0.94], np.float32)[np.arange(w) % 3][None, :, None]
    rows = (1.0 + 0.04 * np.sin(np.arange(h) * 2.1))[:, None, None]
    tex = tex * stripes * rows + 12
    tex = np.clip(tex, 0, 255).astype(np.uint8)
    tex = cv2.copyMakeBorder(tex, 26, 26, 26, 26, cv2.BORDER_CONSTANT, value=(12, 12, 14))
    return tex


def _plane_homography(
    tex_size: tuple[int, int],
    size: tuple[int, int],
    *,
    yaw: float,
    pitch: float,
    roll: float,
    scale: float,
    dx: float,
    dy: float,
) -> np.ndarray:
    """The homography of a flat picture rotated in 3-D and seen by a pinhole camera."""
    tw, th = tex_size
    w, h = size
    f = 1.2 * w
    corners = np.array(
        [[-tw / 2, -th / 2, 0], [tw / 2, -th / 2, 0], [tw / 2, th / 2, 0], [-tw / 2, th / 2, 0]], np.float64
    )
    corners *= scale
    a, b, c = (math.radians(v) for v in (yaw, pitch, roll))
    ry = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    rx = np.array([[1, 0, 0], [0, math.cos(b), math.sin(b)], [0, -math.sin(b), math.cos(b)]])
    rz = np.array([[math.cos(c), -math.sin(c), 0], [math.sin(c), math.cos(c), 0], [0, 0, 1]])
    pts = corners @ (rz @ rx @ ry).T
    depth = f - pts[:, 2]  # z toward the camera
    proj = np.stack([pts[:, 0] * f / depth + w / 2 + dx, pts[:, 1] * f / depth + h / 2 + dy], 1)
    src = np.array([[0, 0], [tw, 0], [tw, th], [0, th]], np.float32)
    return cv2.getPerspectiveTransform(src, proj.astype(np.float32))


def attack_sequence(
    kind: str,
    face: str | Portrait = "astronaut",
    *,
    seconds: float = 4.0,
    fps: float = 15,
    size: tuple[int, int] = (640, 480),
    seed: int = 0,
    other: str | None = None,
    actions: Sequence[str] = (),
    motion: float = 1.0,
) -> list[Frame]:
    """A presentation attack.

    * ``print_moved``: a printed photo held up close and waved: moved, rolled,
      scaled, swept up to about 35 degrees about its vertical axis and 20 about
      its horizontal one (``motion`` scales all of it), seen in perspective:
      one homography per frame for the whole picture. With
      ``actions``, the attacker tilts the print for ``turn_left``/``turn_right``
      (about its vertical axis) and ``nod`` (about its horizontal axis) at the
      times ``live_sequence`` would perform them.
    * ``screen_replay``: the same with a phone screen (bezel, gamma, sub-pixel moire).
    * ``frozen``: one frame repeated; only JPEG re-encoding noise differs.
    * ``face_swap``: a live ``face`` that becomes the live ``other`` person halfway
      (default ``t1_2``, or the astronaut when ``face`` is ``t1_2``)
      (``actions`` are split between the two halves).
    """
    rng = np.random.default_rng(seed)
    n = round(seconds * fps)
    if kind == "frozen":
        base = portrait(face, size) if isinstance(face, str) else face
        still = FaceActor(base, fps=fps, seed=seed, noise=2.0).frame()
        qualities = rng.integers(80, 96, n)
        return [decode_jpeg(encode_jpeg(still, int(q))) for q in qualities]
    if kind == "face_swap":
        first = list(actions[: (len(actions) + 1) // 2])
        second = list(actions[len(first) :])
        half = seconds / 2
        if other is None:
            other = "astronaut" if face == "t1_2" else "t1_2"
        if isinstance(face, str) and other == face:
            raise ValueError("a face swap needs two different people")
        a = _padded_live(face, first, half, fps, size, seed)
        b = _padded_live(other, second, seconds - half, fps, size, seed + 1)
        return a + b
    if kind not in ("print_moved", "screen_replay"):
        raise ValueError(f"unknown attack {kind!r}; one of {ATTACKS}")
    base = portrait(face, size) if isinstance(face, str) else face
    tex = _print_texture(base.image) if kind == "print_moved" else _screen_texture(base.image)
    th, tw = tex.shape[:2]
    bg = _background(size, rng)
    wob = _Wobble(rng, 6)
    fit = 0.95 * size[0] / tw
    timeline = live_timeline(actions) if actions else []
    sweep = rng.uniform(0, 2 * np.pi, 2)
    sweep_amp = motion * (0.25 if timeline else 1.0)
    ones = np.full((th, tw), 255, np.uint8)
    diagonal = (
        np.linspace(-1, 1, size[0], dtype=np.float32)[None, :]
        + 0.6 * np.linspace(-1, 1, size[1], dtype=np.float32)[:, None]
    )
    glare = (np.exp(-((diagonal / 0.25) ** 2)) * 28)[..., None]
    frames = []
    for i in range(n):
        t = i / fps
        wv = wob(t) * motion
        # Waving the picture: slow sweeps about both axes plus the hand's wobble (what an attacker
        # does to fake head
        # motion); when mimicking actions, only those tilts are large.
        yaw = sweep_amp * 30 * math.sin(2 * math.pi * 0.45 * t + sweep[0]) + 6 * wv[0]
        pitch = sweep_amp * 18 * math.sin(2 * math.pi * 0.3 * t + sweep[1]) + 4 * wv[1]
        for action, start, end in timeline:
            if start <= t < end:
                _, env = _ENVELOPES[action]
                amount = env((t - start) / (end - start))  # type: ignore[operator]
                yaw += {"turn_left": 30, "turn_right": -30}.get(action, 0) * amount
                pitch += {"nod": -20}.get(action, 0) * amount
        hm = _plane_homography(
            (tw, th),
            size,
            yaw=yaw,
            pitch=pitch,
            roll=6 * wv[2],
            scale=fit * (1 + 0.06 * wv[3]),
            dx=25 * wv[4],
            dy=14 * wv[5],
        )
        picture = cv2.warpPerspective(tex, hm, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        alpha = cv2.warpPerspective(ones, hm, size, flags=cv2.INTER_LINEAR)[..., None].astype(np.float32) / 255
        frame = picture * alpha + bg * (1 - alpha)
        if kind == "screen_replay":
            # A glare on the glass that slides as the screen tilts.
            shift = int(0.2 * size[0] * wv[0])
            frame = frame + np.roll(glare, shift, axis=1) * alpha
        noise = sensor_noise(rng, 2.0, size[1], size[0])
        frames.append(_camera(np.clip(frame, 0, 255).astype(np.uint8), 1.0, noise))
    return frames


def _padded_live(
    face: str | Portrait, actions: Sequence[str], seconds: float, fps: float, size: tuple[int, int], seed: int
) -> list[Frame]:
    actor = FaceActor(face, fps=fps, size=size, seed=seed, sway=2.0)
    n = round(seconds * fps)
    frames: list[Frame] = actor.hold(min(0.5, seconds / 4))
    for action in actions:
        frames += actor.act(action)
        frames += actor.hold(0.3)
    while len(frames) < n:
        frames.append(actor.frame())
    return frames


# --------------------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.face_engine.synthetic", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    live = sub.add_parser("live", help="a live person performing actions")
    live.add_argument("--actions", default="blink,turn_left", help=f"comma-separated, from {','.join(ACTIONS)}")
    passive = sub.add_parser("passive", help="a live person holding still (with one natural blink)")
    passive.add_argument("--seconds", type=float, default=3.0)
    attack = sub.add_parser("attack", help="a presentation attack")
    attack.add_argument("--kind", choices=ATTACKS, required=True)
    attack.add_argument("--seconds", type=float, default=4.0)
    attack.add_argument(
        "--actions", default="", help="print/screen: tilts mimicking these; face_swap: split between people"
    )
    for p in (live, passive, attack):
        p.add_argument("-o", "--output", required=True, help=".y4m, .mp4, .webm, or a folder for JPEGs")
        p.add_argument("--face", default="astronaut", choices=FACES)
        p.add_argument("--fps", type=float, default=15)
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--loop", type=int, default=1, help="repeat the sequence (a fake camera loops anyway)")
    args = parser.parse_args(argv)
    acts = tuple(a for a in getattr(args, "actions", "").split(",") if a)
    if args.what == "live":
        frames = live_sequence(args.face, acts, fps=args.fps, seed=args.seed)
    elif args.what == "passive":
        frames = passive_sequence(args.face, args.seconds, fps=args.fps, seed=args.seed)
    else:
        frames = attack_sequence(args.kind, args.face, seconds=args.seconds, fps=args.fps, seed=args.seed, actions=acts)
    out = write_video(frames * args.loop, args.output, args.fps)
    print(f"{out}: {len(frames) * args.loop} frames at {args.fps} fps")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
