"""The per-session capture state: small, JSON-serialisable, safe to move between workers.

It holds the tracker (last box), the neutral baseline, the measure time series,
downsampled skull-fixed landmarks for the planar check, the challenge timeline
and a few key frames as JPEG bytes. Nothing else survives between frames, so
two frames of one session may be analysed by different worker processes.

The JPEGs are most of a state's size (about 120 of 135 KB after a few seconds) and change only when a
better or a new key frame is kept. ``to_json(blobs=...)`` leaves them out as references, for the caller to
store apart once; ``from_json(text, blobs)`` puts them back (the verdict needs them; a frame does not).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field, fields
from typing import Any, NamedTuple

import numpy as np
import orjson

from .measures import FaceMeasures
from .types import CHALLENGES, ChallengeName, FrameError

STATE_VERSION = 4
# 2: ``pts`` as JSON arrays of numbers; 3: every JPEG inline (states of sessions in flight at an upgrade).
READABLE_VERSIONS = (2, 3, 4)
# A kept frame's landmarks and measures (``KeyFrame.points``, ``KeyFrame.measures``): how many numbers each holds.
LANDMARK_VALUES = 68 * 2
MEASURE_VALUES = len(fields(FaceMeasures))
# Where a state's JPEGs go when they are stored apart: reference -> bytes, or None for one stored before.
Blobs = MutableMapping[str, bytes | None]


# The rows below are NamedTuples so that ``json.dumps`` writes each one as the JSON array it always was:
# states of sessions in flight load unchanged.
class MeasureRow(NamedTuple):
    """One face frame's measures (rounded), as the challenge detectors and the baseline read them."""

    t: float
    yaw_ratio: float
    pitch_ratio: float
    eye_open: float
    mouth_open: float
    smile: float
    eye_std: float  # contrast of the eye regions over the cheek below (``measures.eye_appearance``)
    eye_dark: float  # darkest decile of the eye regions over the cheek below
    # The skull-fixed points' move from the frame before that no shift, zoom or roll explains (IODs;
    # ``planar.skull_step``); 0 on the first face frame and in rows stored before it existed.
    skull_step: float = 0.0


class Outcome(NamedTuple):
    """How one active challenge ended, and when."""

    name: ChallengeName
    passed: bool
    t: float


class PoseRatios(NamedTuple):
    """The yaw and pitch ratios of one stored landmark set (the planar check's turn filter)."""

    yaw_ratio: float
    pitch_ratio: float


@dataclass
class KeyFrame:
    """A kept frame as JPEG: the best frame whole, or a same-person key frame's face crop.

    A key frame's embedding (and anti-spoof score) is filled in once computed, by
    ``Engine.with_key_embeddings`` or by ``decide`` itself."""

    t: float
    jpeg: bytes
    score: float = 0.0
    embedding: list[float] | None = None
    spoof: float | None = None
    # The tracked face's box in this JPEG: ``decide`` and the key-frame worker start from it instead of
    # detecting the face again (three HOG detections were a third of a verdict's CPU). None: detect.
    box: list[int] | None = None
    # The JPEG's reference when it is stored apart from the state; ``jpeg`` is empty until it is put back.
    ref: str | None = None
    # The tracked face's 68 landmarks in this JPEG (x0, y0, x1, y1, ...) and, for the best frame, its measures
    # (``FaceMeasures`` in field order), as the frame's own analysis found them: ``decide`` and the key-frame
    # worker use them instead of finding the face in the JPEG again (a mesh run each). None: find it.
    points: list[float] | None = None
    measures: list[float] | None = None

    @property
    def tracked_box(self) -> tuple[int, int, int, int] | None:
        return (self.box[0], self.box[1], self.box[2], self.box[3]) if self.box else None

    @property
    def tracked_points(self) -> tuple[float, ...] | None:
        return tuple(self.points) if self.points is not None else None

    def to_obj(self, blobs: Blobs | None = None) -> dict[str, Any]:
        obj: dict[str, Any] = {"t": self.t, "score": self.score}
        if blobs is None and (self.jpeg or not self.ref):
            obj["jpeg"] = base64.b64encode(self.jpeg).decode("ascii")
        else:
            if self.ref is None:
                self.ref = hashlib.blake2b(self.jpeg, digest_size=12).hexdigest()
            obj["ref"] = self.ref
            if blobs is not None:
                blobs[self.ref] = self.jpeg or None
        if self.box is not None:
            obj["box"] = self.box
        if self.embedding is not None:
            obj["embedding"] = self.embedding
            obj["spoof"] = self.spoof
        if self.points is not None:
            obj["points"] = self.points
        if self.measures is not None:
            obj["measures"] = self.measures
        return obj

    @classmethod
    def from_obj(cls, obj: dict[str, Any], blobs: Mapping[str, bytes] | None = None) -> KeyFrame:
        embedding = obj.get("embedding")
        spoof = obj.get("spoof")
        box = obj.get("box")
        ref = obj.get("ref") if "jpeg" not in obj else None
        if ref is not None and not isinstance(ref, str):
            raise ValueError("bad JPEG reference")
        return cls(
            t=float(obj["t"]),
            score=float(obj["score"]),
            jpeg=base64.b64decode(obj["jpeg"]) if ref is None else bytes((blobs or {}).get(ref) or b""),
            ref=ref,
            embedding=[float(v) for v in embedding] if embedding is not None else None,
            spoof=float(spoof) if spoof is not None else None,
            box=[int(v) for v in box] if isinstance(box, list) and len(box) == 4 else None,
            points=_floats(obj.get("points"), LANDMARK_VALUES),
            measures=_floats(obj.get("measures"), MEASURE_VALUES),
        )


@dataclass
class CaptureData:
    """Concrete ``CaptureState``. Mutated only inside the engine; callers persist ``to_json()``."""

    mode: str
    challenges: list[ChallengeName]
    fail_on_multiple_faces: bool = True
    want_age_gender: bool = True
    want_embedding: bool = True
    want_icao: bool = True
    engine: str = "dlib"
    mesh: bool = False  # the backend gives the dense mesh: measures, rigid points and thresholds are the mesh's
    frames: int = 0
    t_first: float | None = None  # first frame with a face
    t_last: float = 0.0
    box: list[int] | None = None  # tracker: the face box in the last frame
    box_rel: list[float] | None = None  # detector box relative to the rigid landmarks
    since_detect: int = 0
    patch: list[float] | None = None  # 16x16 face patch of the last frame (tracking-loss check)
    face_count: int = 0
    max_faces: int = 0
    frames_one: int = 0
    frames_none: int = 0
    frames_multi: int = 0
    frames_low_quality: int = 0
    baseline: MeasureRow | None = None  # the median of the first frames: the user's own neutral face
    baseline_pts: list[list[float]] | None = None
    baseline_iod: float = 0.0
    # The mesh's depth (z) of each rigid point at the baseline, centred, in inter-ocular distances: the shape a
    # rigid head's landmarks move with (``planar.FLAT_DEPTH_RATIO``); None for the 68 points, which have no depth.
    baseline_depth: list[float] | None = None
    # The largest relative change of the mouth width from the baseline over the baseline's own frames: the
    # capture's own noise, which a smile must clear (``challenges.MESH_SMILE_NOISE_FACTOR``).
    baseline_smile_spread: float = 0.0
    # The same for the eyes: the largest relative change of the eye measure and of the eye regions' look from
    # the baseline over its own frames (``challenges.MESH_NOISE_BLINK_FACTOR``, ``MESH_LOOK_BLINK_FACTOR``).
    baseline_eye_spread: float = 0.0
    baseline_look_spread: float = 0.0
    series: list[MeasureRow] = field(default_factory=list)
    pts: list[list[float]] = field(default_factory=list)  # flattened rigid points per face frame
    pts_pose: list[PoseRatios] = field(default_factory=list)  # of each pts entry
    challenge_index: int = 0
    reserve: list[ChallengeName] = field(default_factory=list)  # what re-prompts draw from, in order
    reprompts: int = 0  # challenges replaced after a timeout (``challenges`` holds the replacements)
    challenge_started: float | None = None
    # Capture pauses on frames without a usable face (``progress.PAUSING``): the time they span is kept
    # here and taken off the passive hold and the current challenge's window.
    paused_s: float = 0.0
    challenge_paused_s: float = 0.0  # ``paused_s`` when the current challenge started
    paused: bool = False  # the last frame paused the capture
    outcomes: list[Outcome] = field(default_factory=list)
    thumb: list[int] | None = None  # 32x24 thumbnail of the first frame, for the frozen-frame check
    max_thumb_diff: float = 0.0
    max_pts_motion: float = 0.0
    blinks: int = 0
    blink_closed: bool = False
    planar_outcome: str | None = None  # passive: judged at ~3 s to decide on extending
    antispoof: list[float] = field(default_factory=list)
    screen_samples: int = 0  # face frames the screen check sampled (``screen.py``) ...
    screen_hits: int = 0  # ... and those of them with a display's moire
    complete: bool = False
    best: KeyFrame | None = None
    keys: list[KeyFrame] = field(default_factory=list)
    last_key_t: float = -1.0
    key_due: bool = False  # the tracked face may have changed (tracking lost, face back): keep the next as a key

    def to_json(self, blobs: Blobs | None = None) -> str:
        """The state as JSON; with ``blobs``, each JPEG as a reference, its bytes added to ``blobs``."""
        # Not asdict(): it deep-copies every list and the JPEG bytes on every frame.
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["best"] = self.best.to_obj(blobs) if self.best else None
        data["keys"] = [k.to_obj(blobs) for k in self.keys]
        data["pts"] = _pack_points(self.pts)
        data["v"] = STATE_VERSION
        return json_dumps(data).decode()

    @classmethod
    def from_json(cls, text: str, blobs: Mapping[str, bytes] | None = None) -> CaptureData:
        """The state of ``to_json``; ``blobs`` puts its stored-apart JPEGs back (a frame's analysis needs none).

        With ``blobs``, a JPEG that is missing (evicted) goes: no best frame, no key frame without its embedding.
        """
        try:
            data = json_loads(text)
            if not isinstance(data, dict) or data.pop("v", None) not in READABLE_VERSIONS:
                raise ValueError("unknown state version")
            if isinstance(data.get("pts"), dict):
                data["pts"] = _unpack_points(data["pts"])
            best = data.pop("best", None)
            keys = data.pop("keys", [])
            # A field this version does not know was added by a later one (a rolling upgrade: a newer process
            # saved the state, this one reads it): dropped, so the capture goes on without what it held.
            state = cls(**{k: v for k, v in data.items() if k in _STATE_FIELDS})
            state.best = KeyFrame.from_obj(best, blobs) if best else None
            state.keys = [KeyFrame.from_obj(k, blobs) for k in keys]
            if blobs is not None:
                state.best = state.best if state.best is None or state.best.jpeg else None
                state.keys = [k for k in state.keys if k.jpeg or k.embedding is not None]
            state._name_rows()
            if state.mode not in ("active", "passive") or any(
                c not in CHALLENGES for c in (*state.challenges, *state.reserve)
            ):
                raise ValueError("bad plan")
        except (ValueError, TypeError, KeyError) as exc:
            raise FrameError("badState", f"The capture state cannot be loaded: {exc}") from exc
        return state

    def _name_rows(self) -> None:
        """Turn the JSON arrays of a loaded state into named rows (a row of the wrong length: TypeError; a
        measure that is no number, as a non-finite one is written (null): ValueError)."""
        if any(None in row for row in self.series):
            raise ValueError("a measure row holds a value that is no number")
        self.series = [MeasureRow(*row) for row in self.series]
        self.baseline = MeasureRow(*self.baseline) if self.baseline is not None else None
        self.pts_pose = [PoseRatios(*pose) for pose in self.pts_pose]
        self.outcomes = [Outcome(*outcome) for outcome in self.outcomes]


def _floats(value: object, count: int) -> list[float] | None:
    """``value`` as ``count`` finite numbers, or None (absent or malformed: the face is found again instead)."""
    if not isinstance(value, list) or len(value) != count:
        return None
    numbers = [float(v) for v in value if isinstance(v, int | float) and not isinstance(v, bool)]
    return numbers if len(numbers) == count and all(np.isfinite(numbers)) else None


def _row_list(value: object) -> list[Any]:
    """orjson's fallback: a row (a NamedTuple) as the JSON array ``json`` always wrote it as."""
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_dumps(value: Any) -> bytes:
    """``value`` as JSON bytes through orjson, taking what ``json`` took: rows as arrays, numpy numbers as
    numbers (``json`` took ``numpy.float64``, a float), keys that are not strings as strings. Unlike ``json``,
    a non-finite float is written as null."""
    return orjson.dumps(value, default=_row_list, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)


def json_loads(text: str | bytes) -> Any:
    """JSON as orjson reads it; what ``json`` alone reads (NaN, written by a release before orjson) by ``json``."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


_STATE_FIELDS = frozenset(f.name for f in fields(CaptureData))  # what this version stores (read on every frame)


def _pack_points(pts: list[list[float]]) -> dict[str, Any] | list[list[float]]:
    """The stored landmark sets as tenths of a pixel in little-endian int32, base64 (one JSON string).

    Each set holds ``round(v, 1)`` values (``progress.note_face``), so the tenths
    are exact integers and ``tenths / 10`` is the very same float again. Written
    as JSON numbers, these few thousand values cost more than everything else in
    a frame's state round trip (3.5 ms of 5 at 90 frames, 12 ms at the 300 kept).
    Sets of unequal length (never written by the engine) stay JSON arrays.
    """
    if not pts or len({len(p) for p in pts}) != 1:
        return pts
    tenths = np.rint(np.asarray(pts, dtype=np.float64) * 10.0).astype("<i4")
    return {"cols": len(pts[0]), "tenths": base64.b64encode(tenths.tobytes()).decode("ascii")}


def _unpack_points(packed: dict[str, Any]) -> list[list[float]]:
    cols = int(packed["cols"])
    tenths = np.frombuffer(base64.b64decode(packed["tenths"], validate=True), dtype="<i4")
    if cols <= 0 or tenths.size % cols:
        raise ValueError("bad landmark sets")
    return list((tenths.reshape(-1, cols).astype(np.float64) / 10.0).tolist())
