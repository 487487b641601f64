"""The test worlds as labelled data sets, and the engine's error rates on them.

    .venv/bin/python bench/worlds.py build --world a|b|c|d OUT [--people 7 --lives 9 --attacks 24 --seed 0 --jobs 1]
                                                             [--live-only]
    .venv/bin/python bench/worlds.py run ROOT [--world a --world b ...] [--engine dlib --engine mediapipe ...]
                                              [--jobs 1] [--rendered-only]

``build`` writes one folder of JPEG frames (quality 88, what the hosted page
sends) per clip and ``manifest.json`` (the format ``manage.py evaluate``
reads; docs/evaluation.md), with ``--lives`` live clips and ``--attacks``
attacks per person (defaults: 9 and 24 per person over 7 people: 63 live clips
and 168 attacks per world). ``run`` builds the worlds (``--world``, repeated;
default all four) under ROOT when they are missing, runs ``manage.py
evaluate`` on each with each engine, keeps each JSON line in
ROOT/world-<world>-<engine>.json and prints one markdown table;
``--rendered-only`` evaluates just the clips a running build has finished
(round robin over the people, so a partial build samples all of them).

* **World A** (``tests/face_engine/synthetic.py`` and ``world_a.py``): 2-D
  warps of the photos over dlib's landmarks; its attacks are the waved
  print and screen of ``attack_sequence``, a bent print, a replayed live clip,
  a frozen frame and a face swap.
* **World B** (``tests/face_engine/world_b/``, no code shared with world A):
  textured 3-D heads rendered with perspective and a z-buffer in a room, and
  its own prints, bent prints, screens, replays, frozen frames and swaps.
* **World C** (``tests/face_engine/world_c/``, no code shared with worlds A
  or B): heads as per-pixel depth maps rendered by ray marching (relief
  mapping), lit by a light fixed in the room, in a procedural office; its
  own attacks. The held-out world: worlds A and B may inform the engine's
  thresholds, world C only reports on them (docs/benchmarks.md).
* **World D**: world C's generator with other people: seven faces from the
  demo photos of the npm package ``@vladmandic/face-api``
  (``world_c/photos.py``, ``PEOPLE_D``), so it shares neither code nor
  footage with worlds A and B, and no footage with world C. Held out like C.

Live clips draw 0 (a passive hold), 1, 2 or 3 challenges as the service does
(distinct, never both turns in a row); attacks under challenges try to
answer them (a print tilted when a turn or nod is asked, a replay of the
person answering other challenges, a swap between two people answering half
each). Everything is seeded: the same arguments give the same clips.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.face_engine.worlds import WORLDS, build  # noqa: E402 - after the path is set

# --- evaluating -----------------------------------------------------------------------------------


def evaluate(directory: Path, engine: str, jobs: int = 1) -> dict[str, object]:
    """``manage.py evaluate DIR --engine ENGINE --jobs JOBS``; its last line (the JSON summary)."""
    cmd = [sys.executable, str(ROOT / "manage.py"), "evaluate", str(directory), "--engine", engine, "--jobs", str(jobs)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def rendered_only(directory: Path) -> Path:
    """A data set of the clips of ``directory`` rendered so far (links to them), for a build still running."""
    manifest = json.loads((directory / "manifest.json").read_text())
    out = directory.with_name(directory.name + "-rendered")
    out.mkdir(exist_ok=True)
    done = {}
    for name, entry in manifest.items():
        if (directory / name / ".done").is_file():
            link = out / name
            if not link.exists():
                link.symlink_to(directory / name)
            done[name] = entry
    (out / "manifest.json").write_text(json.dumps(done, indent=1))
    return out


def _pct(value: object) -> str:
    return "n/a" if value is None else f"{100 * float(value):.1f} %"  # type: ignore[arg-type]


def table(rows: Sequence[tuple[str, str, dict[str, object]]]) -> str:
    kinds = sorted({k for _, _, s in rows for k in s["apcerByType"]})  # type: ignore[attr-defined]
    head = (
        "| world | engine | live clips | attacks | APCER | BPCER | ACER | "
        + " | ".join(f"APCER {k}" for k in kinds)
        + " |"
    )
    lines = [head, "|" + "---|" * (7 + len(kinds))]
    for world, engine, s in rows:
        by_type = s["apcerByType"]
        lines.append(
            f"| {world.upper()} | {engine} | {s['lives']} | {s['attacks']} | {_pct(s['apcer'])} | {_pct(s['bpcer'])} | "
            f"{_pct(s['acer'])} | " + " | ".join(_pct(by_type.get(k)) for k in kinds) + " |"  # type: ignore[attr-defined]
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    b = sub.add_parser("build", help="write one world's clips and manifest.json")
    b.add_argument("--world", choices=WORLDS, required=True)
    b.add_argument("out", type=Path)
    b.add_argument("--live-only", action="store_true", help="only the world's live clips (its BPCER alone)")
    r = sub.add_parser("run", help="build the worlds (when missing), evaluate each with each engine, print a table")
    r.add_argument("root", type=Path)
    r.add_argument("--world", action="append", choices=WORLDS, help="repeat for several (default: all four)")
    r.add_argument("--engine", action="append", help="repeat for several (default: dlib)")
    r.add_argument(
        "--rendered-only", action="store_true", help="evaluate only the clips already rendered (a build still running)"
    )
    for p in (b, r):
        p.add_argument("--people", type=int, default=7)
        p.add_argument("--lives", type=int, default=9, help="live clips per person")
        p.add_argument("--attacks", type=int, default=24, help="attacks per person (at most 24)")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--jobs", type=int, default=1, help="processes rendering and evaluating clips")
    args = parser.parse_args(argv)
    sizes = {
        "n_people": args.people,
        "lives": args.lives,
        "attacks": args.attacks,
        "seed": args.seed,
        "jobs": args.jobs,
    }
    if args.what == "build":
        build(args.world, args.out, **sizes, live_only=args.live_only)
        return 0
    rows = []
    for world in args.world or WORLDS:
        directory = args.root / f"world-{world}"
        directory = rendered_only(directory) if args.rendered_only else build(world, directory, **sizes)
        for engine in args.engine or ["dlib"]:
            started = time.time()
            summary = evaluate(directory, engine, args.jobs)
            (args.root / f"world-{world}-{engine}.json").write_text(json.dumps(summary))
            print(f"world {world}, {engine}: evaluated in {time.time() - started:.0f} s", file=sys.stderr)
            rows.append((world, engine, summary))
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
