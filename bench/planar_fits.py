"""How well a plane and a rigid face-shaped body explain the landmark motion of each clip.

    .venv/bin/python bench/planar_fits.py DIR OUT.json [--jobs 2]

For each clip of DIR (a data set as ``manage.py evaluate`` reads it), runs the
MediaPipe engine as a session does and, for every frame the planar check
reads, fits the frame's rigid mesh points against the baseline's three ways
(inter-ocular distances, RMS):

* ``r_sim``: similarity (shift, zoom, roll): how much moved at all;
* ``r_h``: plane homography (8 parameters): what a flat picture can do;
* ``r_z``: affine camera on the baseline's own 3-D mesh points (8 parameters):
  what a rigid face-shaped body can do.

It writes one JSON object per clip (label, verdict, the planar outcome and
the per-frame fits) for choosing the rule on one world and reporting it on the
other; it prints one line per clip.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _clip(directory: str, name: str) -> dict[str, Any]:
    from apps.face_engine import planar
    from apps.face_engine.progress import planar_evidence
    from bench.common import replay_decided

    planar.FLAT_DEPTH_RATIO = 0.0  # the engine as it was without the depth fit's veto: what the rule is chosen on
    clip, replay, _engine, st = replay_decided(directory, name)
    out: dict[str, Any] = {"name": name, "expect": clip.expect, "verdict": replay.verdict.verdict,
                           "reasons": list(replay.verdict.reasons), "attack": clip.attack}  # fmt: skip
    if st.baseline_pts is None or st.baseline_depth is None:
        return out
    judged = planar_evidence(st)
    out["planar_without_depth"], out["depth_ratio"] = judged.outcome, judged.depth_ratio
    ref = np.asarray(st.baseline_pts, np.float64)
    iod = st.baseline_iod
    shaped = np.asarray(st.baseline_depth) * iod
    fits = []
    for p in st.pts:
        cur = np.asarray(p, np.float64).reshape(-1, 2)
        r_sim = planar._similarity_residual(ref, cur) / iod
        r_h = planar._homography_residual(ref, cur) / iod
        r_z = planar._depth_residual(ref, shaped, cur) / iod
        fits.append((round(r_sim, 4), round(r_h, 4), round(r_z, 4)))
    out["fits"] = fits
    out["depth_iod"] = round(float(np.ptp(st.baseline_depth)), 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    names = list(json.loads((args.directory / "manifest.json").read_text()))
    rows = []
    with ProcessPoolExecutor(args.jobs) as pool:
        for row in pool.map(_clip, [str(args.directory)] * len(names), names):
            fits = np.asarray(row.get("fits") or [[0, 0, 0]])
            moved = fits[fits[:, 0] >= 0.05]
            ratio = row.get("depth_ratio") or float("nan")
            print(f"{row['name']:28} {row['expect']:5} {row['verdict']:6} {row.get('planar_without_depth', '-'):8} "
                  f"moved={len(moved):3} r_z/r_h={ratio:.2f}", flush=True)  # fmt: skip
            rows.append(row)
    args.out.write_text(json.dumps(rows))


if __name__ == "__main__":
    main()
