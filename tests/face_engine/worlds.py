"""The test worlds as labelled data sets for ``manage.py evaluate`` (issue 11; run by ``bench/worlds.py``).

* **World A** (``synthetic.py`` and ``world_a.py``): 2-D warps of the photos
  over dlib's landmarks; attacks: the waved print and screen of
  ``attack_sequence``, a bent print, a replayed live clip, a frozen frame, a
  face swap.
* **World B** (``world_b/``, no code shared with world A): textured 3-D heads
  rendered with perspective and a z-buffer in a room, with its own prints,
  bent prints, screens, replays, frozen frames and swaps.
* **World C** (``world_c/``, no code shared with worlds A or B; a later,
  fresh held-out set): heads as per-pixel depth maps rendered by marching
  each camera ray into them (relief mapping), lit by a light fixed in the
  room, expressions as displacement fields, in a procedural office; its own
  attacks (cards intersected analytically by each pixel's ray).
* **World D** (``world_c/`` again, with other people): world C's generator
  over seven faces no other world uses (``world_c/photos.py``, ``PEOPLE_D``:
  the demo photos of the npm package ``@vladmandic/face-api``). It shares no
  code and no footage with worlds A and B, and no footage with world C.

Live clips draw 0 (a passive hold), 1, 2 or 3 challenges as the service does
(distinct, never both turns in a row); attacks under challenges try to
answer them (a print tilted when a turn or nod is asked, a replay of the
person answering other challenges, a swap between two people answering half
each). Everything is seeded: the same arguments give the same clips.
"""

from __future__ import annotations

import ast
import itertools
import json
import sys
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    from apps.face_engine.types import FaceEngine, Verdict

WORLDS = ("a", "b", "c", "d")
CHALLENGES = ("blink", "turn_left", "turn_right", "nod", "smile", "mouth_open")
FPS = 15
JPEG_QUALITY = 88
# Per person: attack kind -> (passive clips, clips under challenges).
ATTACK_MIX: dict[str, tuple[int, int]] = {
    "print": (3, 3),
    "bent_print": (2, 2),
    "screen": (2, 3),
    "replay": (1, 3),
    "frozen": (1, 1),
    "face_swap": (1, 2),
}
LIVE_COUNTS = (0, 0, 0, 1, 2, 3, 3, 2, 1)  # challenges per live clip (0: passive), cycled


@dataclass(frozen=True)
class Spec:
    world: str
    name: str
    person: str
    kind: str  # "live" or an attack kind
    challenges: tuple[str, ...]  # () = passive
    seed: int

    @property
    def manifest_entry(self) -> dict[str, object]:
        entry: dict[str, object] = {
            "challenges": list(self.challenges) if self.challenges else "passive",
            "expect": "pass" if self.kind == "live" else "fail",
            "fps": FPS,
        }
        if self.kind != "live":
            entry["attack"] = self.kind
        entry.update(person=self.person, world=self.world, seed=self.seed)
        return entry


def imported_names(path: Path) -> list[str]:
    """Every module and name a Python file imports (what the worlds' independence tests check)."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names += [node.module or ""] + [a.name for a in node.names]
    return names


def people(world: str) -> tuple[str, ...]:
    if world == "a":
        from tests.face_engine.synth_faces import FACES

        return FACES
    if world == "c":
        from tests.face_engine.world_c.photos import PEOPLE as PEOPLE_C

        return PEOPLE_C
    if world == "d":
        from tests.face_engine.world_c.photos import NARROW_EYED_D, PEOPLE_D

        return PEOPLE_D + NARROW_EYED_D  # seven by default (--people); nine with the narrow-eyed two
    from tests.face_engine.world_b.faces import PEOPLE

    return PEOPLE


def draw_challenges(rng: np.random.Generator, count: int) -> tuple[str, ...]:
    """``count`` distinct challenges, never both turns in a row (the service's rule)."""
    while True:
        drawn = tuple(str(c) for c in rng.permutation(CHALLENGES)[:count])
        if not any({a, b} == {"turn_left", "turn_right"} for a, b in itertools.pairwise(drawn)):
            return drawn


def specs(world: str, *, n_people: int, lives: int, attacks: int, seed: int) -> list[Spec]:
    """The clips of one world: ``lives`` live clips and up to ``attacks`` attacks per person."""
    rng = np.random.default_rng([seed, ord(world)])
    out: list[Spec] = []
    mix = [(kind, n) for kind, (p, a) in ATTACK_MIX.items() for n in [0] * p + [1] * a]
    for person in people(world)[:n_people]:
        for i in range(lives):
            count = LIVE_COUNTS[i % len(LIVE_COUNTS)]
            chal = draw_challenges(rng, count)
            out.append(Spec(world, f"{world}_live_{person}_{i:02d}", person, "live", chal, int(rng.integers(1 << 30))))
        for i, (kind, active) in enumerate(mix[:attacks]):
            chal = draw_challenges(rng, int(rng.integers(1, 4))) if active else ()
            name = f"{world}_{kind}_{person}_{i:02d}"
            out.append(Spec(world, name, person, kind, chal, int(rng.integers(1 << 30))))
    return out


# --- rendering ------------------------------------------------------------------------------------


def _frames_a(spec: Spec) -> Iterable[np.ndarray]:
    from tests.face_engine import synthetic, world_a

    rng = np.random.default_rng(spec.seed)
    acts = spec.challenges
    seconds = 6.0
    if acts:
        _, _, end = synthetic.live_timeline(acts)[-1]
        seconds = max(6.0, end + 1.2)
    if spec.kind == "live":
        if not acts:
            return synthetic.passive_sequence(
                spec.person, 6.0, fps=FPS, seed=spec.seed, blink_at_s=float(rng.uniform(0.8, 2.0))
            )
        return synthetic.live_sequence(spec.person, acts, fps=FPS, seed=spec.seed, tail_s=1.0)
    if spec.kind == "face_swap":
        others = [p for p in synthetic.FACES if p != spec.person]
        other = others[int(rng.integers(len(others)))]
        return world_a.face_swap_sequence(spec.person, other, actions=acts, fps=FPS, seed=spec.seed)
    if spec.kind in ("print", "screen", "frozen"):
        kind = {"print": "print_moved", "screen": "screen_replay"}.get(spec.kind, spec.kind)
        return synthetic.attack_sequence(kind, spec.person, seconds=seconds, fps=FPS, seed=spec.seed, actions=acts)
    if spec.kind == "bent_print":
        return world_a.bent_print_sequence(spec.person, seconds=seconds, fps=FPS, seed=spec.seed, actions=acts)
    recorded = [c for c in ("smile", "mouth_open", "turn_right", "turn_left", "blink", "nod") if c not in acts][:2]
    return world_a.replay_sequence(
        spec.person, recorded=recorded, actions=acts, seconds=seconds, fps=FPS, seed=spec.seed
    )


def _frames_b(spec: Spec) -> Iterable[np.ndarray]:
    from tests.face_engine.world_b import actor, attacks

    if spec.kind == "live":
        live, end = actor.performance(spec.person, spec.challenges, seed=spec.seed, fps=FPS)
        return live.frames(max(end, 6.0) if not spec.challenges else end)
    if spec.kind == "frozen":
        return attacks.frozen_attack(spec.person, seed=spec.seed, fps=FPS)
    if spec.kind == "face_swap":
        return attacks.face_swap_attack(spec.person, spec.challenges, seed=spec.seed, fps=FPS)
    return attacks.picture_attack(spec.kind, spec.person, spec.challenges, seed=spec.seed, fps=FPS)


def _frames_c(spec: Spec) -> Iterable[np.ndarray]:
    from tests.face_engine.world_c import attacks, performer

    if spec.kind == "live":
        live, end = performer.perform(spec.person, spec.challenges, seed=spec.seed, fps=FPS)
        return live.frames(end)
    if spec.kind == "frozen":
        return attacks.frozen_attack(spec.person, spec.challenges, seed=spec.seed, fps=FPS)
    if spec.kind == "face_swap":
        return attacks.face_swap_attack(spec.person, spec.challenges, seed=spec.seed, fps=FPS)
    return attacks.picture_attack(spec.kind, spec.person, spec.challenges, seed=spec.seed, fps=FPS)


def jpeg_frames(spec: Spec) -> Iterator[bytes]:
    """One clip's frames, JPEG-encoded as the hosted page sends them."""
    for frame in {"a": _frames_a, "b": _frames_b, "c": _frames_c, "d": _frames_c}[spec.world](spec):
        _ok, data = cv2.imencode(
            ".jpg", np.ascontiguousarray(frame[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]
        )
        yield data.tobytes()


FULL_SET = {"n_people": 7, "lives": 9, "attacks": 24, "seed": 0}  # ``bench/worlds.py build``'s defaults


def full_set_spec(name: str) -> Spec:
    """The clip ``name`` (``a_…``, ``b_…``) of its world's full set, with the full set's own seed."""
    return next(s for s in specs(name[0], **FULL_SET) if s.name == name)


def full_set_verdict(engine: FaceEngine, name: str) -> Verdict:
    """The verdict ``engine`` gives the full-set clip ``name``, its frames replayed as a session runs them."""
    from apps.core.capture_replay import capture_replay
    from apps.face_engine.types import CapturePlan

    spec = full_set_spec(name)
    plan = CapturePlan(mode="active", challenges=spec.challenges) if spec.challenges else CapturePlan(mode="passive")
    frames = ((i / FPS, jpeg) for i, jpeg in enumerate(jpeg_frames(spec)))
    return capture_replay(engine=engine, plan=plan, frames=frames).verdict


def full_set_live_passes(engine: FaceEngine, name: str, challenges: tuple[str, ...]) -> Verdict:
    """Replay the full-set live clip ``name`` (asked ``challenges``, none: a passive hold) and assert it passes."""
    assert full_set_spec(name).challenges == challenges
    verdict = full_set_verdict(engine, name)
    assert (verdict.verdict, verdict.reasons) == ("pass", ()), verdict.scores
    return verdict


def render(spec: Spec, out: Path) -> tuple[str, int]:
    """Write one clip's frames as JPEGs into ``out/<name>/``."""
    folder = out / spec.name
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    for n, jpeg in enumerate(jpeg_frames(spec), 1):
        (folder / f"{n - 1:04d}.jpg").write_bytes(jpeg)
    (folder / ".done").write_text(str(n))
    return spec.name, n


def _render_star(args: tuple[Spec, Path]) -> tuple[str, int]:
    return render(*args)


def build(
    world: str,
    out: Path,
    *,
    n_people: int,
    lives: int,
    attacks: int,
    seed: int,
    jobs: int = 1,
    stride: int = 1,
    live_only: bool = False,
) -> Path:
    """Render the world's clips into ``out`` (every ``stride``-th only, for a sample) and write the manifest.

    ``live_only``: only the live clips, the same ones the whole world has (a BPCER alone, in a third of the time).
    """
    out.mkdir(parents=True, exist_ok=True)
    todo = specs(world, n_people=n_people, lives=lives, attacks=attacks, seed=seed)[::stride]
    if live_only:
        todo = [s for s in todo if s.kind == "live"]
    # Round robin over the people (each one's n-th clip, then the next): a build cut short is still a
    # sample of every person and every kind of clip.
    per_person: dict[str, list[Spec]] = {}
    for s in todo:
        per_person.setdefault(s.person, []).append(s)
    order = [s for group in itertools.zip_longest(*per_person.values()) for s in group if s is not None]
    pending = [s for s in order if not (out / s.name / ".done").is_file()]
    started = time.time()
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            for i, (name, n) in enumerate(pool.map(_render_star, [(s, out) for s in pending]), 1):
                print(f"[{i}/{len(pending)}] {name}: {n} frames", file=sys.stderr)
    else:
        for i, spec in enumerate(pending, 1):
            name, n = render(spec, out)
            print(f"[{i}/{len(pending)}] {name}: {n} frames", file=sys.stderr)
    manifest = {s.name: s.manifest_entry for s in todo}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    lives_n = sum(s.kind == "live" for s in todo)
    print(
        f"world {world}: {lives_n} live clips, {len(todo) - lives_n} attacks, {len(pending)} rendered "
        f"in {time.time() - started:.0f} s -> {out}"
    )
    return out
