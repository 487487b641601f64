"""The capture's neutral baseline: the person at rest with the eyes open, and how much its measures stray.

Taken once, from BASELINE_FRAMES face frames in a row without a blink (or, when the wait runs out, the
window with the fewest blink frames). The challenge detectors read every later frame relative to it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .challenges import eye_look_change
from .measures import RIGID_POINTS
from .state import CaptureData, MeasureRow

BASELINE_FRAMES = 5
# The baseline is the person at rest, eyes open: a window of frames that holds a blink (its least open eyes
# under this share of its most open: a closing lid reads 0.3-0.55 of open, the mesh's jitter 3 %, the 68-point
# ratio's up to 30 % on narrow eyes) would make "open" half-closed, and no later blink would count. The
# baseline then waits for a window without one, at most BASELINE_MAX_WAIT more face frames.
BASELINE_EYES_SPREAD = 0.6
BASELINE_MAX_WAIT = 10


def at_rest(st: CaptureData) -> bool:
    """The last BASELINE_FRAMES face frames hold no blink, or the baseline has waited long enough."""
    return no_blink(st.series[-BASELINE_FRAMES:]) or len(st.series) >= BASELINE_FRAMES + BASELINE_MAX_WAIT


def no_blink(rows: list[MeasureRow]) -> bool:
    """The least open eyes of ``rows`` are at least BASELINE_EYES_SPREAD of the most open."""
    eyes = [r.eye_open for r in rows]
    return min(eyes) >= BASELINE_EYES_SPREAD * max(eyes)


def baseline_back(st: CaptureData) -> int:
    """How many face frames before the last one the baseline's window of BASELINE_FRAMES ends (0: the last ones).

    The last frames, as a rule. When the baseline has waited BASELINE_MAX_WAIT frames without a window at rest
    (frames far apart under load, landing on the blinks of a person who blinks about once a second), the last
    window could hold three blink frames of five, and its median "open" eyes were half-closed: no later blink
    reached it, and a live person got retry / insufficientMotion (bench/sessions.py at N=20, 1 session of 580).
    Then the window with the fewest blink frames seen while waiting, the latest of equals, is taken instead."""
    n = len(st.series)
    if no_blink(st.series[n - BASELINE_FRAMES :]) or len(st.pts) != n:  # pts != n: thinned, not the rows'
        return 0
    backs = range(min(BASELINE_MAX_WAIT, n - BASELINE_FRAMES) + 1)
    widest = max(r.eye_open for r in st.series[n - backs[-1] - BASELINE_FRAMES :])

    def blinks_in(back: int) -> int:
        window = st.series[n - back - BASELINE_FRAMES : n - back]
        return sum(r.eye_open < BASELINE_EYES_SPREAD * widest for r in window)

    return min(backs, key=lambda back: (blinks_in(back), back))


def set_baseline(st: CaptureData, back: int = 0) -> None:
    n, m = len(st.series), len(st.pts)
    window = st.series[n - back - BASELINE_FRAMES : n - back]
    rows = np.asarray(window, dtype=np.float64)
    st.baseline = MeasureRow(*(round(float(v), 4) for v in np.median(rows, axis=0)))
    st.baseline_smile_spread = _spread(rows, st.baseline, "smile")
    # How far the eyes' measures stray over the person's own open eyes: a blink must stand out of that.
    st.baseline_eye_spread = _spread(rows, st.baseline, "eye_open")
    st.baseline_look_spread = round(max(eye_look_change(row, st.baseline) for row in window), 4)
    pts = np.asarray(st.pts[m - back - BASELINE_FRAMES : m - back], dtype=np.float64)
    st.baseline_pts = np.median(pts, axis=0).reshape(-1, 2).round(2).tolist()
    st.baseline_iod = rig_iod(st, np.asarray(st.baseline_pts))


def _spread(rows: npt.NDArray[np.float64], base: MeasureRow, field: str) -> float:
    """The largest relative change of one measure from the baseline's over the baseline's own rows."""
    values = rows[:, MeasureRow._fields.index(field)]
    return round(float(np.max(np.abs(values / max(getattr(base, field), 1e-6) - 1.0))), 4)


def rig_iod(st: CaptureData, rig: npt.NDArray[np.floating]) -> float:
    """The inter-ocular distance of a rigid point set (N x 2)."""
    # The eye corners: the mesh's rigid set starts with them; the 68-point set holds them at these places.
    i36, i39, i42, i45 = (0, 1, 2, 3) if st.mesh else (RIGID_POINTS.index(k) for k in (36, 39, 42, 45))
    return float(np.hypot(*((rig[i42] + rig[i45]) / 2 - (rig[i36] + rig[i39]) / 2)))
