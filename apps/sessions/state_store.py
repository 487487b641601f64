"""Per-session engine state, kept in the cache (Redis in production) under the session id.

Never in process memory: consecutive frames of one session may land on
different worker processes. ``gen`` changes whenever an attempt (re)starts, so a
frame queued for an older attempt is recognised and dropped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypedDict

from django.core.cache import cache

# Longer than any session's TTL, so live state never vanishes mid-capture.
_STATE_TIMEOUT = 2 * 60 * 60
_LOCK_TIMEOUT = 30


class CaptureRecord(TypedDict):
    gen: str
    seq: int
    plan: dict[str, Any]  # CapturePlan fields
    state: str  # the engine's CaptureState.to_json(); "" until the first frame
    challenge: str | None
    complete: bool
    t0: float  # wall-clock time of the first analysed frame; engine timestamps are relative to it
    total: int  # challenges in this attempt


def _state_key(session_id: str) -> str:
    return f"capture:state:{session_id}"


def capture_record_get(*, session_id: str) -> CaptureRecord | None:
    raw = cache.get(_state_key(session_id))
    return json.loads(raw) if raw else None


def capture_record_put(*, session_id: str, record: CaptureRecord) -> None:
    cache.set(_state_key(session_id), json.dumps(record), timeout=_STATE_TIMEOUT)


def capture_record_delete(*, session_id: str) -> None:
    cache.delete(_state_key(session_id))


@contextmanager
def session_lock(*, session_id: str) -> Iterator[bool]:
    """Yield whether this process holds the session's frame lock (``cache.add`` is atomic)."""
    key = f"capture:lock:{session_id}"
    acquired = bool(cache.add(key, "1", timeout=_LOCK_TIMEOUT))
    try:
        yield acquired
    finally:
        if acquired:
            cache.delete(key)


def _key_embedding_key(session_id: str, gen: str, t: float) -> str:
    return f"capture:keyemb:{session_id}:{gen}:{t!r}"


def key_embedding_put(*, session_id: str, gen: str, t: float, value: dict[str, Any] | None) -> None:
    """A key frame's embedding as computed by the key-frame worker (None: no face found in it)."""
    cache.set(_key_embedding_key(session_id, gen, t), json.dumps(value), timeout=_STATE_TIMEOUT)


def key_embeddings_get(*, session_id: str, gen: str, times: list[float]) -> dict[float, dict[str, Any]]:
    """The computed embeddings among ``times`` (by key-frame time); missing and faceless ones are left out."""
    keys = {_key_embedding_key(session_id, gen, t): t for t in times}
    found = {keys[key]: json.loads(raw) for key, raw in cache.get_many(list(keys)).items()}
    return {t: value for t, value in found.items() if value}


def record_summary(record: CaptureRecord | None) -> dict[str, Any]:
    return {} if record is None else {"gen": record["gen"], "seq": record["seq"], "complete": record["complete"]}
