"""Key-frame embeddings: descriptors of same-person key frames, computed apart while the capture goes on.

A descriptor costs about 15-25 ms of CPU (dlib on OpenBLAS); the key-frame worker runs at a lower CPU priority
than the frame workers, so it delays others' feedback as little as it can.
Whatever it has not done by the verdict, the engine's ``decide`` computes itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from apps.core.engine import get_engine
from apps.core.metrics import EngineTimer
from apps.face_engine.types import CaptureState, FaceEngine, KeyEmbedding, PendingKeyFrame

from ..state_store import capture_record_get, key_crop_put, key_crop_take, key_embedding_put, key_embeddings_get

# A key-frame embedding is useful only until its attempt's verdict: an older request is dropped, not worked off,
# and its face crop has left the cache by then.
KEY_EMBED_EXPIRES_S = 120
# The most key-frame requests the "keys" queue holds: without a key-frame worker (a valid choice) nobody takes
# them, so the oldest are dropped (each is a reference of a few hundred bytes, never the crop itself).
KEY_QUEUE_MAX = 1000


class KeyFrameRequest(Protocol):
    """Have one new key frame embedded apart (the task module queues it on the "keys" worker)."""

    def __call__(self, *, session_id: str, gen: str, key: PendingKeyFrame) -> None: ...


def key_crop_keep(*, session_id: str, jpeg: bytes, points: Sequence[float] | None = None) -> int | None:
    """Keep a key frame's face crop (and the face's landmarks in it) in the cache for the key-frame worker: its
    queue's message carries only the reference returned (None: the session has ended), since a message nobody
    takes stays in the broker."""
    return key_crop_put(session_id=session_id, jpeg=jpeg, points=points, timeout=KEY_EMBED_EXPIRES_S)


def session_key_frame_embed(*, session_id: str, gen: str, t: float, crop: int, box: list[int] | None = None) -> None:
    """Embed one key frame's face crop (kept by ``key_crop_keep``) and keep the result for the verdict."""
    kept = key_crop_take(session_id=session_id, ref=crop)
    record = capture_record_get(session_id=session_id)
    if kept is None or record is None or record["gen"] != gen:
        return  # expired, or a finished or restarted attempt: nobody will read it
    jpeg, points = kept
    engine = get_engine()
    with EngineTimer("key_frame_embed"):
        where = (box[0], box[1], box[2], box[3]) if isinstance(box, list) and len(box) == 4 else None
        found = engine.embed_key_frame(jpeg, where, points)
    value = None if found is None else {"embedding": list(found.embedding), "spoof": found.spoof}
    key_embedding_put(session_id=session_id, gen=gen, t=t, value=value)


def key_frames_with_embeddings(engine: FaceEngine, *, session_id: str, gen: str, state: CaptureState) -> CaptureState:
    """``state`` with every key-frame embedding the key-frame worker has stored so far."""
    times = [pending.t for pending in engine.key_frames_pending(state)]
    found = key_embeddings_get(session_id=session_id, gen=gen, times=times) if times else {}
    ready = {t: KeyEmbedding(embedding=tuple(v["embedding"]), spoof=v["spoof"]) for t, v in found.items()}
    return engine.with_key_embeddings(state, ready) if ready else state
