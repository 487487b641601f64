"""Active challenge detectors.

Each detector reads the time series of measures since its challenge was shown,
*relative to the user's own neutral baseline* (a smiling or squinting face has
a low eye ratio while its eyes are open, a narrow face a small yaw range), and
answers whether the requested action happened. A challenge not met within
``CHALLENGE_TIMEOUT_S`` is replaced by a fresh one (``reprompt_pick``), at most
``MAX_REPROMPTS`` times per capture; after that it fails.

Series rows are ``state.MeasureRow``s (``eye_std`` and ``eye_dark``: contrast
and darkest decile of the eye regions over the cheek just below, see
``measures.eye_appearance``).
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable, Collection, Sequence
from typing import NamedTuple

from .measures import ratio_degrees
from .planar import MIN_EVIDENCE, PARALLAX_PITCH, PARALLAX_YAW
from .state import MeasureRow
from .types import CHALLENGES, ChallengeName

Row = MeasureRow
Baseline = MeasureRow  # the user's own neutral face

CHALLENGE_TIMEOUT_S = 7.0
MAX_REPROMPTS = 2  # fresh challenges per capture after one was not answered in time
# Relative thresholds (see docs/engine.md ("Liveness", "Tuning and known limits") for how they were chosen).
TURN_DELTA = 0.22  # yaw ratio change (~13 degrees)
TURN_DEGREES = ratio_degrees(TURN_DELTA)  # the same turn from a frontal rest, as an angle (12.7)
NOD_DELTA = 0.07  # pitch ratio change
SMILE_WIDEN = 1.05  # mouth 5% wider than neutral (frame-to-frame noise: 2-3%), with the head still
MOUTH_DELTA = 0.22  # inner-lip gap over mouth width, above neutral
EYE_LOOK_CLOSED = 0.15  # eye-region contrast or darkness 15% off the baseline: the lids moved
EYE_LOOK_OPEN = 0.08  # ... and back within 8%
BLINK_STILL_YAW = 0.15  # a turned or nodding head changes how the eyes look too: not a blink
BLINK_STILL_PITCH = 0.05
BLINK_STILL_STEP_YAW = 0.06  # ... nor may it have moved since the frame before (a waved photo does)
BLINK_STILL_STEP_PITCH = 0.025
HOLD_FRAMES = 2  # consecutive frames a pose must be held
# The mesh (MediaPipe) measures the lids and the lips itself (``mesh_signals``): the eye measure is the
# visible share of the iris, the mouth gap the inner lips' own; thresholds relative to the baseline.
# A blink on the mesh: the lids leave at most 70 % of the open baseline's iris share visible, a drop of at
# least 0.2 iris diameters (on narrow eyes the lids of a print jitter down to 63 % of the baseline, a drop
# of 0.13) ...
MESH_LIDS_CLOSED = 0.7
MESH_LIDS_DROP = 0.2
# ... or, where the mesh follows a closing lid only part of the way (narrow eyes: world A's t1_3 read
# 74-86 %), at most 88 % with the eye regions' look EYE_LOOK_CLOSED off the baseline, on two frames in a row
# (the glare on a waved print changes the look of its eyes for single frames). Chosen on world A.
MESH_LIDS_LOWER = 0.88
MESH_LIDS_OPEN = 0.9  # ... and back to 90 %
# ... or, where the mesh follows a closing lid for a single frame only (world B's p1: lids at 85 % and then
# 98 % of open while the eye regions' look was 36 % and 35 % off), the look 30 % off on two frames in a row
# with the lids at 86 % or less on one of them. Chosen on worlds A and B: over their stored captures it gave one
# picture a blink (a screen, refused on its display lattice); lids at 88 % or a look of 20 % gave more.
MESH_LIDS_GLIMPSE = 0.86
MESH_EYE_LOOK_SHUT = 0.3
# ... or, where an upper lid slides down over an eye that is narrow at rest and the mesh follows it only part of
# the way (lids at 70-94 % of open, the look 7-21 % off, on two or three frames), both the lids and the look
# stand out of the capture's own noise on two frames in a row: the lids at least MESH_NOISE_BLINK_DROP below
# open and the look MESH_NOISE_BLINK_LOOK off, or MESH_NOISE_BLINK_FACTOR times the most the baseline's own
# frames strayed from it, if that is more (a screen's sliding glare or a print's jitter stray more). Chosen
# on worlds A and B with lids that slide (docs/benchmarks.md).
MESH_NOISE_BLINK_DROP = 0.05
MESH_NOISE_BLINK_LOOK = 0.07
MESH_NOISE_BLINK_FACTOR = 2.5
# ... or, where the mesh's lids do not follow a sliding lid at all (world B's p1 with lids that slide: lids at
# 90-104 % of open while the eye regions' look was 18-21 % off, 8 to 17 times as far as over the baseline's own
# frames), the look alone on two frames in a row: at least EYE_LOOK_CLOSED off and MESH_LOOK_BLINK_FACTOR times
# the baseline's look spread (``progress.limits``; off while that spread is unknown). The glare on five screens of
# world B reached 5.8-6.3 times (one 8.3: its display lattice refuses it). Chosen on worlds A and B
# (docs/benchmarks.md).
MESH_LOOK_BLINK_FACTOR = 7.0
# The mesh's yaw is a real angle, so a blink can ask for a stiller head: a waved print of a three-quarter
# face, turned by 0.08 (about 5 degrees), read its lids at 73 % of the baseline.
MESH_BLINK_STILL_YAW = 0.06
# Closing lids pull the mesh's pitch estimate by up to 0.06 (world A, astronaut); the iris share hardly
# changes with pitch (it shrinks with its cosine), so the mesh allows that much.
MESH_BLINK_STILL_PITCH = 0.08
MESH_BLINK_STILL_STEP_PITCH = 0.05
MESH_MOUTH_DELTA = 0.06  # inner-lip gap over mouth width above neutral (neutral jitter: +-0.045)
# The mesh reads nods short: world B's 14-20 degree nods gave pitch-ratio changes of 0.068-0.16 (one
# person's 0.068-0.074 every time); passive holds swayed by up to 0.062 (world A) and 0.070 (world B, p4,
# a face at rest in three-quarter view). Chosen on worlds A and B; a nod answered by sway is no pass on its own.
MESH_NOD_DELTA = 0.06
# The mesh's mouth width jitters with the face: within 2.2 % of the baseline over the baseline's own frames on
# every live face of worlds A and B, up to 4.7 % on a print of a face at rest in three-quarter view (world A,
# t1_4), where a smile read at the fixed 5 % answered the challenge on noise. With the mesh, a smile must widen
# the mouth by this many times the baseline frames' largest spread, when that is more than the fixed 5 %.
# Chosen on worlds A and B (docs/benchmarks.md).
MESH_SMILE_NOISE_FACTOR = 1.5


class Limits(NamedTuple):
    """What the detectors read: the 68-point estimates (default) or the mesh's own lids and lips."""

    lids: bool = False  # eyes judged from the lids (mesh) as well as the eye regions' look
    lids_with_look: bool = True  # with the mesh: lids part-closed plus the look is a closure too
    mouth_delta: float = MOUTH_DELTA
    nod_delta: float = NOD_DELTA
    blink_still_yaw: float = BLINK_STILL_YAW
    blink_still_pitch: float = BLINK_STILL_PITCH
    blink_still_step_pitch: float = BLINK_STILL_STEP_PITCH
    # The yaw- and pitch-ratio changes that make a frame "turned" for the planar check's parallax.
    turn_gate: tuple[float, float] = (PARALLAX_YAW, PARALLAX_PITCH)
    smile_widen: float = SMILE_WIDEN  # the mouth width over the baseline's that makes a smile
    # With the mesh: the lids' drop (share of open) and the look's change that close the eyes on two frames in a
    # row out of the capture's own noise (``progress.limits`` raises them by the baseline's spread). None: off.
    noise_blink: tuple[float, float] | None = None
    # With the mesh: the look's change that closes the eyes on two frames in a row whatever the lids read. None: off.
    look_blink: float | None = None
    # With the mesh: a turn is judged as an angle (TURN_DEGREES from the rest pose, yaw = asin(yaw ratio)) rather
    # than as a yaw-ratio change, which asks a face at rest in three-quarter view for a larger turn away.
    turn_by_angle: bool = False


LIMITS_68 = Limits()
LIMITS_MESH = Limits(
    lids=True,
    noise_blink=(MESH_NOISE_BLINK_DROP, MESH_NOISE_BLINK_LOOK),
    mouth_delta=MESH_MOUTH_DELTA,
    nod_delta=MESH_NOD_DELTA,
    blink_still_yaw=MESH_BLINK_STILL_YAW,
    blink_still_pitch=MESH_BLINK_STILL_PITCH,
    blink_still_step_pitch=MESH_BLINK_STILL_STEP_PITCH,
    # The mesh's angles read real turns and nods short (world B's 20-30 degree turns read yaw ratios 0.25-0.48,
    # its 14-20 degree nods 0.068-0.16, one person's 0.068-0.074), so with the mesh a turn or nod that answers
    # its challenge is out-of-plane motion too: at 0.3 a live head that turned by 20-25 degrees had no frame
    # that counted, and was called flat. Chosen on worlds A and B.
    turn_gate=(TURN_DELTA, MESH_NOD_DELTA),
    turn_by_angle=True,
)
# A face at rest in three-quarter view keeps the 68 points' gate: the mesh reads a tilted picture of it as a
# turning head (with the mesh's gate, a passive print of world B's p4 passed).
LIMITS_MESH_THREE_QUARTER = LIMITS_MESH._replace(lids_with_look=False, turn_gate=(PARALLAX_YAW, PARALLAX_PITCH))


def _held(rows: Sequence[Row], ok: Callable[[Row], bool], frames: int = HOLD_FRAMES) -> bool:
    run = 0
    for row in rows:
        run = run + 1 if ok(row) else 0
        if run >= frames:
            return True
    return False


def eye_look_change(row: Row, base: Baseline) -> float:
    return max(abs(row.eye_std / max(base.eye_std, 1e-6) - 1.0), abs(row.eye_dark / max(base.eye_dark, 1e-6) - 1.0))


def _still(row: Row, base: Baseline, previous: Row | None, limits: Limits) -> bool:
    return (
        # The skull held still since the frame before (the planar check's own bound for a still head): a
        # landmark fit that missed the face moves the eye corners against the nose and jaw, and the eye
        # regions it reads then look "closed" on a photo.
        row.skull_step < MIN_EVIDENCE
        and abs(row.yaw_ratio - base.yaw_ratio) < limits.blink_still_yaw
        and abs(row.pitch_ratio - base.pitch_ratio) < limits.blink_still_pitch
        and (
            previous is None
            or (
                abs(row.yaw_ratio - previous.yaw_ratio) < BLINK_STILL_STEP_YAW
                and abs(row.pitch_ratio - previous.pitch_ratio) < limits.blink_still_step_pitch
            )
        )
    )


def eyes_closed(row: Row, base: Baseline, previous: Row | None = None, limits: Limits = LIMITS_68) -> bool:
    """The lids are down: the eye regions look different while the head is still.

    The look decides, not the eye ratio: on narrow or downcast eyes the ratio
    jitters by 30% from frame to frame and the landmark model often does not
    follow a closing lid at all, while a tilted photo changes the geometry but
    never the look of its eyes. Contrast and darkness are taken relative to the
    skin under the eye, so an exposure change or a glare is not a blink.

    With the mesh (``limits.lids``) the iris model's lid contour follows a
    closing lid: the share of the iris the lids leave visible drops, relative
    to the person's own open eyes and in iris diameters; where it follows only
    part of the way (narrow eyes), the look must change as well, two frames
    in a row.
    """
    if not _still(row, base, previous, limits):
        return False
    if not limits.lids:
        return eye_look_change(row, base) >= EYE_LOOK_CLOSED
    if row.eye_open <= MESH_LIDS_CLOSED * base.eye_open and base.eye_open - row.eye_open >= MESH_LIDS_DROP:
        return True
    if not limits.lids_with_look or previous is None:
        return False
    pair = (previous, row)
    part_closed = all(
        r.eye_open <= MESH_LIDS_LOWER * base.eye_open and eye_look_change(r, base) >= EYE_LOOK_CLOSED for r in pair
    )
    glimpse = any(r.eye_open <= MESH_LIDS_GLIMPSE * base.eye_open for r in pair) and all(
        eye_look_change(r, base) >= MESH_EYE_LOOK_SHUT for r in pair
    )
    out_of_noise = limits.noise_blink is not None and all(
        r.eye_open <= (1.0 - limits.noise_blink[0]) * base.eye_open
        and eye_look_change(r, base) >= limits.noise_blink[1]
        for r in pair
    )
    look_alone = limits.look_blink is not None and all(eye_look_change(r, base) >= limits.look_blink for r in pair)
    return part_closed or glimpse or out_of_noise or look_alone


def eyes_open(row: Row, base: Baseline, limits: Limits = LIMITS_68) -> bool:
    if limits.lids:
        return row.eye_open >= MESH_LIDS_OPEN * base.eye_open
    return eye_look_change(row, base) < EYE_LOOK_OPEN


def blink_detected(rows: Sequence[Row], base: Baseline, limits: Limits = LIMITS_68) -> bool:
    """Eyes close (relative to the open baseline) and open again."""
    closed = False
    previous: Row | None = None
    for row in rows:
        if not closed and eyes_closed(row, base, previous, limits):
            closed = True
        elif closed and eyes_open(row, base, limits):
            return True
        previous = row
    return False


def _turn(rows: Sequence[Row], base: Baseline, sign: float, limits: Limits) -> bool:
    if limits.turn_by_angle:
        rest = ratio_degrees(base.yaw_ratio)
        return _held(rows, lambda r: sign * (ratio_degrees(r.yaw_ratio) - rest) > TURN_DEGREES)
    return _held(rows, lambda r: sign * (r.yaw_ratio - base.yaw_ratio) > TURN_DELTA)


def turn_left_detected(rows: Sequence[Row], base: Baseline, limits: Limits = LIMITS_68) -> bool:
    """The user turns to their own left: the nose moves toward the image's right (yaw ratio up)."""
    return _turn(rows, base, 1.0, limits)


def turn_right_detected(rows: Sequence[Row], base: Baseline, limits: Limits = LIMITS_68) -> bool:
    return _turn(rows, base, -1.0, limits)


def nod_detected(rows: Sequence[Row], base: Baseline, limits: Limits = LIMITS_68) -> bool:
    """Head pitched (down or up) clearly beyond neutral without turning."""
    return _held(
        rows,
        lambda r: (
            abs(r.pitch_ratio - base.pitch_ratio) > limits.nod_delta and abs(r.yaw_ratio - base.yaw_ratio) < TURN_DELTA
        ),
    )


def _head_still(r: Row, base: Baseline, limits: Limits) -> bool:
    # The yaw bound is the blink's: with the mesh (a real angle) 0.06. A face at rest in three-quarter view
    # that turns toward the camera widens its mouth as it turns: a face swap of world B's p4 read 7-13 % wider
    # at a yaw change of 0.05-0.14, and "smiled" at 0.15. No live smile of worlds A and B turned 0.06.
    return (
        abs(r.yaw_ratio - base.yaw_ratio) < limits.blink_still_yaw
        and abs(r.pitch_ratio - base.pitch_ratio) < BLINK_STILL_PITCH
    )


def smile_detected(rows: Sequence[Row], base: Baseline, limits: Limits = LIMITS_68) -> bool:
    """The mouth widens while the head stays put (turning changes the mouth's apparent width too)."""
    return _held(rows, lambda r: r.smile / max(base.smile, 1e-6) > limits.smile_widen and _head_still(r, base, limits))


def mouth_open_detected(rows: Sequence[Row], base: Baseline, limits: Limits = LIMITS_68) -> bool:
    return _held(rows, lambda r: r.mouth_open - base.mouth_open > limits.mouth_delta)


DETECTORS: dict[str, Callable[[Sequence[Row], Baseline, Limits], bool]] = {
    "blink": blink_detected,
    "turn_left": turn_left_detected,
    "turn_right": turn_right_detected,
    "nod": nod_detected,
    "smile": smile_detected,
    "mouth_open": mouth_open_detected,
}


def challenges_draw(*, count: int) -> tuple[ChallengeName, ...]:
    """``count`` distinct challenges in random order (cryptographic RNG: not guessable in advance).

    ``turn_left`` and ``turn_right`` are never adjacent, so one sweep of the head cannot answer both.
    """
    count = max(0, min(int(count), len(CHALLENGES)))
    rng = secrets.SystemRandom()
    while True:
        drawn = tuple(rng.sample(CHALLENGES, count))
        adjacent_turns = any(_turns_adjacent(a, b) for a, b in itertools.pairwise(drawn))
        if not adjacent_turns:
            return drawn


def _turns_adjacent(a: str | None, b: str | None) -> bool:
    return {a, b} == {"turn_left", "turn_right"}


def challenges_reserve_draw(*, plan: Sequence[ChallengeName]) -> tuple[ChallengeName, ...]:
    """The challenges not in ``plan``, in random order: what a re-prompt draws from (drawn with the plan, so
    that analysing the same frames again asks the same re-prompts)."""
    rest = [name for name in CHALLENGES if name not in plan]
    return tuple(secrets.SystemRandom().sample(rest, len(rest)))


def reprompt_pick(
    plan: Sequence[ChallengeName], index: int, reserve: Sequence[ChallengeName], used: Collection[str]
) -> ChallengeName:
    """The challenge that replaces ``plan[index]`` (not answered in time): deterministic, no randomness here.

    The first of ``reserve`` (then of the rest of ``CHALLENGES``) not asked yet in this capture, never a
    turn next to the opposite turn; when every challenge has been asked, the missed one again.
    """
    neighbours = (plan[index - 1] if index > 0 else None, plan[index + 1] if index + 1 < len(plan) else None)
    for name in (*reserve, *CHALLENGES):
        if name not in used and name not in plan and not any(_turns_adjacent(name, n) for n in neighbours):
            return name
    return plan[index]
