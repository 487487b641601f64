"""Parallax measured on the face's texture, not on the landmark model's points: a study, not the engine.

    .venv/bin/python bench/texture_parallax.py DIR OUT.json [--jobs 2] [--names SUBSTR,...]

The planar check fits the mesh's rigid points with a homography. On a print or a
screen the face mesh model does not follow the picture's pixels: it draws a
three-dimensional face, so a tilted print reads as a turned head (see
docs/benchmarks.md, "Parallax from the texture"). This script measures what the
pixels themselves do. For each clip of DIR (a data set as ``manage.py evaluate``
reads it):

* the first frame with a face seeds up to 300 corners (``goodFeaturesToTrack``)
  on the face's rigid skin: inside the mesh's outline, outside the eyes, brows
  and lips;
* they are followed frame to frame with pyramidal Lucas-Kanade and a
  forward-backward check (0.5 px), and each frame's points are fitted against
  the first frame's with a similarity (``r_sim``) and a plain least-squares
  homography (``r_h``), both in inter-ocular distances;
* a clip's statistic is the median of ``r_h / r_sim`` over the frames that moved
  (``r_sim >= 0.05``; at least 3 of them). Every point of a flat picture moves by
  one homography, so what is left is the tracker's drift; a head's nose and
  cheeks leave more.

It prints one line per clip and, at the end, the statistic's range per attack
type; OUT.json holds every frame's fits.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402

MIN_MOVED = 0.05  # r_sim (IODs) of a frame that moved enough to judge, as the planar check's MIN_EVIDENCE
MIN_POINTS = 20
BAND_FINE = 2.0  # pixels (band_pass): chosen on world A
BAND_WIDE = 8.0
BAND_FLOOR = 6.0  # grey levels: the local contrast below which noise is not amplified (chosen on world A)
# Mesh vertices around the parts of the face that move on their own (MediaPipe's face-mesh topology).
EYES = (
    [33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246],
    [263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466],
)
BROWS = ([70, 63, 105, 66, 107, 55, 65, 52, 53, 46], [300, 293, 334, 296, 336, 285, 295, 282, 283, 276])
LIPS = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185]
LK = {
    "winSize": (21, 21),
    "maxLevel": 3,
    "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01),
}

_backend: Any = None


def _mesh_backend() -> Any:
    global _backend
    if _backend is None:
        from apps.face_engine.backends.mediapipe import MediaPipeBackend

        _backend = MediaPipeBackend()
    return _backend


def _grays(path: Path, fps: float) -> Iterator[np.ndarray]:
    from apps.face_engine.video import read_capture

    for _, data in read_capture(path, fps=fps):
        yield cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)


def band_pass(gray: np.ndarray) -> np.ndarray:
    """The image as Lucas-Kanade should see it when the light is not constant (``--filter band``).

    Lucas-Kanade assumes each point keeps its brightness. Glare that slides over a screen, shading that changes
    as a picture tilts, a lens's vignette that stays put while the face moves, and exposure flicker all break
    that, and none of them is texture. A difference of Gaussians keeps the skin's detail (finer than
    ``BAND_WIDE`` pixels) and drops what varies slowly; dividing by the local contrast drops a change of gain.
    ``BAND_FINE`` removes what is finer than a camera resolves (sensor noise, a display's sub-pixels).
    """
    g = gray.astype(np.float32)
    detail = cv2.GaussianBlur(g, (0, 0), BAND_FINE) - cv2.GaussianBlur(g, (0, 0), BAND_WIDE)
    contrast = np.sqrt(cv2.GaussianBlur(detail * detail, (0, 0), 4 * BAND_WIDE)) + BAND_FLOOR
    return np.clip(128 + 40 * detail / contrast, 0, 255).astype(np.uint8)


def _seed(gray: np.ndarray) -> tuple[np.ndarray, float] | None:
    """Corners on the face's rigid skin, and the inter-ocular distance (pixels)."""
    from apps.face_engine.tracking import detect_faces

    backend = _mesh_backend()
    boxes = detect_faces(backend, gray)
    if not boxes:
        return None
    points = backend.mesh(gray, boxes[0]).points[:, :2]
    iod = float(np.linalg.norm(points[EYES[0]].mean(0) - points[EYES[1]].mean(0)))
    mask = np.zeros(gray.shape, np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(points.astype(np.int32)), 255)
    for part, grow in ((EYES[0], 0.25), (EYES[1], 0.25), (LIPS, 0.2), (BROWS[0], 0.1), (BROWS[1], 0.1)):
        hull = cv2.convexHull(points[part].astype(np.int32))
        cv2.fillConvexPoly(mask, hull, 0)
        cv2.polylines(mask, [hull], True, 0, thickness=max(1, int(grow * iod)))
    corners = cv2.goodFeaturesToTrack(gray, 300, 0.003, max(3, int(0.06 * iod)), mask=mask, blockSize=5)
    if corners is None or len(corners) < MIN_POINTS:
        return None
    return corners.reshape(-1, 2).astype(np.float32), iod


def _rms(predicted: np.ndarray, actual: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.sum((predicted - actual) ** 2, axis=1))))


def _median_error(predicted: np.ndarray, actual: np.ndarray) -> float:
    return float(np.median(np.linalg.norm(predicted - actual, axis=1)))


def _fits(src: np.ndarray, dst: np.ndarray, robust: bool = False) -> tuple[float, float]:
    """(similarity, homography) residuals in pixels: RMS of least squares, or (``robust``) the median point's
    error of least-median fits, which a minority of points that slid along an edge cannot move."""
    m, _ = cv2.estimateAffinePartial2D(src, dst, method=cv2.LMEDS)
    h, _ = cv2.findHomography(src, dst, cv2.LMEDS if robust else 0)
    error = _median_error if robust else _rms
    r_sim = error(src @ m[:, :2].T + m[:, 2], dst) if m is not None else 0.0
    r_h = error(cv2.perspectiveTransform(src.reshape(-1, 1, 2), h).reshape(-1, 2), dst) if h is not None else 0.0
    return r_sim, r_h


def clip_fits(directory: str, name: str, track_filter: str = "none", robust: bool = False) -> dict[str, Any]:
    from apps.core.evaluation import manifest_load

    clip = next(c for c in manifest_load(Path(directory)) if c.name == name)
    out: dict[str, Any] = {"name": name, "expect": clip.expect, "attack": clip.attack or "live", "frames": []}
    base = current = previous = None
    iod = 1.0
    for i, raw in enumerate(_grays(clip.path, clip.fps)):
        gray = band_pass(raw) if track_filter == "band" else raw
        if base is None:
            seeded = _seed(raw)
            if seeded is not None:
                base, iod = seeded
                current = base.copy()
            previous = gray
            continue
        moved, status, _ = cv2.calcOpticalFlowPyrLK(previous, gray, current.reshape(-1, 1, 2), None, **LK)
        back, status_back, _ = cv2.calcOpticalFlowPyrLK(gray, previous, moved, None, **LK)
        error = np.linalg.norm(back.reshape(-1, 2) - current, axis=1)
        kept = (status.ravel() == 1) & (status_back.ravel() == 1) & (error < 0.5)
        base, current, previous = base[kept], moved.reshape(-1, 2)[kept], gray
        if len(base) < MIN_POINTS:
            base = None  # seed again on the next frame with a face
            continue
        r_sim, r_h = _fits(base, current, robust)
        out["frames"].append([i, len(base), round(r_sim / iod, 5), round(r_h / iod, 5)])
    out["ratio"] = clip_ratio(out["frames"])
    return out


def clip_ratio(frames: list[list[float]]) -> float | None:
    """Median of r_h / r_sim over the frames that moved; None with fewer than 3 of them."""
    moved = [(f[2], f[3]) for f in frames if f[2] >= MIN_MOVED]
    return float(np.median([h / s for s, h in moved])) if len(moved) >= 3 else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--filter", choices=("none", "band"), default="none", help="what LK tracks: the grey image"
                        " or its band-pass (see band_pass)")  # fmt: skip
    parser.add_argument("--robust", action="store_true", help="least-median fits and median errors (see _fits)")
    parser.add_argument("--names", default="", help="only clips whose name holds one of these (comma-separated)")
    args = parser.parse_args()
    names = list(json.loads((args.directory / "manifest.json").read_text()))
    if args.names:
        names = [n for n in names if any(part in n for part in args.names.split(","))]
    rows = []
    by_type: dict[str, list[float]] = defaultdict(list)
    with ProcessPoolExecutor(args.jobs) as pool:
        n = len(names)
        for row in pool.map(clip_fits, [str(args.directory)] * n, names, [args.filter] * n, [args.robust] * n):
            ratio = row["ratio"]
            print(f"{row['name']:32} {row['attack']:10} frames={len(row['frames']):3} "
                  f"r_h/r_sim={'-' if ratio is None else f'{ratio:.3f}'}", flush=True)  # fmt: skip
            rows.append(row)
            if ratio is not None:
                by_type[row["attack"]].append(ratio)
    args.out.write_text(json.dumps(rows))
    print("\nmedian r_h / r_sim per clip (clips with at least 3 frames that moved):")
    for attack, ratios in sorted(by_type.items()):
        total = sum(1 for r in rows if r["attack"] == attack)
        print(f"  {attack:10} {len(ratios):3} of {total:3}: min {min(ratios):.3f}  median {np.median(ratios):.3f}"
              f"  max {max(ratios):.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
