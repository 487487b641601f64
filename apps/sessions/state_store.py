"""Per-session engine state, kept in the cache (Redis in production) under the session id.

Never in process memory: consecutive frames of one session may land on
different worker processes. ``gen`` changes whenever an attempt (re)starts, so a
frame queued for an older attempt is recognised and dropped.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, TypedDict

from django.core.cache import cache

from apps.face_engine.state import json_dumps, json_loads

from .session_locks import LockReading

logger = logging.getLogger(__name__)

# Longer than any session's TTL, so live state never vanishes mid-capture.
CAPTURE_STATE_SECONDS = 2 * 60 * 60


class CaptureRecord(TypedDict):
    gen: str
    seq: int
    plan: dict[str, Any]  # CapturePlan fields
    state: str  # the engine's CaptureState.to_json(); "" until the first frame
    challenge: str | None
    complete: bool
    t0: float  # wall-clock time of the first analysed frame; engine timestamps are relative to it
    total: int  # challenges in this attempt
    reprompts: NotRequired[int]  # challenges the engine has replaced so far (not answered in time)
    # Per analysed frame: [engine time s, faces, feedback codes, current challenge or None] (the admin's timeline).
    log: NotRequired[list[list[Any]]]
    # The references of the state's JPEGs, each stored apart under ``_blob_key`` (written once, not per frame).
    blobs: NotRequired[list[str]]


def _state_key(session_id: str) -> str:
    return f"capture:state:{session_id}"


def capture_record_get(*, session_id: str) -> CaptureRecord | None:
    return capture_record_decode(cache.get(_state_key(session_id)))


def capture_record_key(session_id: str) -> str:
    """The cache key of the session's record (for ``session_lock_reading``, which reads it with the lock)."""
    return _state_key(session_id)


def capture_record_decode(raw: bytes | str | None) -> CaptureRecord | None:
    """The record as stored under ``capture_record_key`` (None: none stored)."""
    return json_loads(raw) if raw else None


def _blob_key(session_id: str, ref: str) -> str:
    return f"capture:blob:{session_id}:{ref}"


def capture_record_put(
    *,
    session_id: str,
    record: CaptureRecord,
    blobs: Mapping[str, bytes | None] | None = None,
    lock: LockReading | None = None,
) -> None:
    """Store ``record``; ``blobs``: its state's JPEGs by reference (``CaptureState.to_json(blobs=...)``).

    Only JPEGs the record did not refer to before are written (before the record that refers to them), and
    those it no longer refers to are deleted: a frame moves a few KB instead of every kept JPEG. ``lock``: the
    session's lock the record was read with, released with the record's write (one round trip for both).
    """
    before = set(record.get("blobs", ()))
    gone: set[str] = set()
    if blobs is not None:
        new = {_blob_key(session_id, ref): data for ref, data in blobs.items() if ref not in before and data}
        if new:
            cache.set_many(new, timeout=CAPTURE_STATE_SECONDS)
        gone = before - set(blobs)
        record["blobs"] = sorted(blobs)
    if lock is not None:
        lock.write_and_release(_state_key(session_id), json_dumps(record), CAPTURE_STATE_SECONDS)
    else:
        cache.set(_state_key(session_id), json_dumps(record), timeout=CAPTURE_STATE_SECONDS)
    if gone:
        cache.delete_many([_blob_key(session_id, ref) for ref in gone])


def capture_blobs_get(*, session_id: str, record: CaptureRecord) -> dict[str, bytes]:
    """The JPEGs ``record``'s state refers to, by reference (one that expired is left out)."""
    refs = list(record.get("blobs", ()))
    found = cache.get_many([_blob_key(session_id, ref) for ref in refs])
    return {ref: found[_blob_key(session_id, ref)] for ref in refs if _blob_key(session_id, ref) in found}


def capture_blobs_forget(*, session_id: str) -> None:
    """Delete the JPEGs of the session's current record (an attempt restarting, or the capture ending)."""
    jpegs = _record_blob_keys(session_id, capture_record_get(session_id=session_id))
    if jpegs:
        cache.delete_many(jpegs)


def _record_blob_keys(session_id: str, record: CaptureRecord | None) -> list[str]:
    """The cache keys of the JPEGs ``record`` refers to (none without a record)."""
    return [_blob_key(session_id, ref) for ref in (record.get("blobs", ()) if record else ())]


def capture_record_delete(*, session_id: str, record: CaptureRecord | None = None) -> None:
    """Forget the session's capture: its state, its JPEGs (best frame, face crops), every key-frame embedding
    and every key-frame crop still waiting for the key-frame worker. ``record``: the session's record as the
    caller last read or wrote it (the verdict), so that its JPEGs' references need not be read again."""
    jpegs = _record_blob_keys(session_id, record or capture_record_get(session_id=session_id))
    # The state first, then the slots: a key-frame worker storing an embedding meanwhile either took its slot
    # before the state went (so the count read below includes it) or finds the state gone and deletes its own.
    cache.delete_many([*jpegs, _state_key(session_id)])
    cache.delete_many(_slot_keys(session_id, _EMBEDDINGS, _CROPS))


_EMBEDDINGS = "keyemb"  # key-frame embeddings, computed by the key-frame worker
_CROPS = "keycrop"  # key-frame face crops waiting for it (its queue's messages carry only their slot)


def _slot_key(session_id: str, kind: str, slot: int | str) -> str:
    return f"capture:{kind}:{session_id}:{slot}"


def _slot_keys(session_id: str, *kinds: str) -> list[str]:
    """Every slot of each of ``kinds`` the session has taken (all attempts), then the kinds' counters themselves
    (their counts read in one round trip)."""
    counters = [_slot_key(session_id, kind, "n") for kind in kinds]
    counts = cache.get_many(counters)
    slots = [
        _slot_key(session_id, kind, n)
        for kind, counter in zip(kinds, counters, strict=True)
        for n in range(1, int(counts.get(counter) or 0) + 1)
    ]
    return [*slots, *counters]


def _slot_put(*, session_id: str, kind: str, value: Any, timeout: int) -> int | None:
    """Store ``value`` in the session's next numbered slot of ``kind``; its number, or None once the session has
    ended. ``incr`` is atomic in Redis and locmem, so ``capture_record_delete`` can find and remove them all."""
    counter = _slot_key(session_id, kind, "n")
    cache.add(counter, 0, timeout=CAPTURE_STATE_SECONDS)
    try:
        slot = int(cache.incr(counter))
    except ValueError:  # the counter was deleted in between: the session has ended
        return None
    cache.set(_slot_key(session_id, kind, slot), value, timeout=timeout)
    if cache.get(_state_key(session_id)) is None:
        # The session ended meanwhile: nobody will read it, and it is biometric.
        cache.delete_many([_slot_key(session_id, kind, slot), counter])
        return None
    return slot


def key_embedding_put(*, session_id: str, gen: str, t: float, value: dict[str, Any] | None) -> None:
    """A key frame's embedding as computed by the key-frame worker (None: no face found in it)."""
    entry = json.dumps({"gen": gen, "t": t, "value": value})
    _slot_put(session_id=session_id, kind=_EMBEDDINGS, value=entry, timeout=CAPTURE_STATE_SECONDS)


def key_crop_put(*, session_id: str, jpeg: bytes, points: Sequence[float] | None, timeout: int) -> int | None:
    """Keep a key frame's face crop (and the face's landmarks in it) for the key-frame worker, for ``timeout``
    seconds at most and never past the session's end; the reference to queue in its place (None: the session has
    already ended)."""
    value = jpeg if points is None else {"jpeg": jpeg, "points": [float(v) for v in points]}
    return _slot_put(session_id=session_id, kind=_CROPS, value=value, timeout=timeout)


def key_crop_take(*, session_id: str, ref: int) -> tuple[bytes, list[float] | None] | None:
    """The crop and landmarks ``key_crop_put`` kept under ``ref``, deleted as they are read (None: expired, or the
    session ended). A crop kept by an older version is its bytes alone."""
    key = _slot_key(session_id, _CROPS, ref)
    kept = cache.get(key)
    cache.delete(key)
    if isinstance(kept, bytes):
        return kept, None
    if isinstance(kept, dict) and isinstance(kept.get("jpeg"), bytes):
        points = kept.get("points")
        return kept["jpeg"], [float(v) for v in points] if isinstance(points, list) else None
    return None


def key_embeddings_get(*, session_id: str, gen: str, times: list[float]) -> dict[float, dict[str, Any]]:
    """The computed embeddings among ``times`` (by key-frame time); missing and faceless ones are left out."""
    wanted = set(times)
    found: dict[float, dict[str, Any]] = {}
    for raw in cache.get_many(_slot_keys(session_id, _EMBEDDINGS)[:-1]).values():
        entry = json.loads(raw)
        if entry["gen"] == gen and entry["t"] in wanted and entry["value"]:
            found[float(entry["t"])] = entry["value"]
    return found


def record_summary(record: CaptureRecord | None) -> dict[str, Any]:
    return {} if record is None else {"gen": record["gen"], "seq": record["seq"], "complete": record["complete"]}


# A finished session's result was published to its sockets: the recovery sweep leaves it alone.
_ANNOUNCED_TIMEOUT = 30 * 60


def _announced_key(session_id: str) -> str:
    return f"capture:announced:{session_id}"


def result_announced_mark(*, session_id: str) -> None:
    cache.set(_announced_key(session_id), 1, timeout=_ANNOUNCED_TIMEOUT)


def results_unannounced(*, session_ids: list[str]) -> list[str]:
    """The sessions among ``session_ids`` whose result nobody has published yet."""
    marked = cache.get_many([_announced_key(sid) for sid in session_ids])
    return [sid for sid in session_ids if _announced_key(sid) not in marked]


def decide_queued_mark(*, session_id: str, seconds: int) -> bool:
    """True once per ``seconds`` for a session: a rescued verdict is queued once, not on every sweep."""
    return bool(cache.add(f"capture:decide-queued:{session_id}", 1, timeout=seconds))
