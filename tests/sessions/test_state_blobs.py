"""The capture record in Redis holds no JPEG: the best frame and key-frame crops are stored apart, once each.

Each frame used to carry every kept JPEG through Redis twice (load and save, ~120 KB each way); now it moves the
record only. The JPEGs are biometric: they leave Redis with the rest of the capture.
"""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async as sync_to_async
from django.core.cache import cache

from apps.sessions.models import SessionAttempt
from apps.sessions.state_store import capture_record_get
from apps.sessions.tokens import session_token_issue
from tests.conftest import require_redis

from .conftest import make_session
from .socket_helpers import authed_socket, stream_until
from .synthetic_clips import ScriptedUser

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("real_engine"), pytest.mark.slow]
JPEG_MAGIC = b"\xff\xd8\xff"


def _blob_keys(session_id: object) -> list[bytes]:
    import redis

    return list(redis.Redis.from_url(require_redis()).keys(f"*capture:blob:{session_id}:*"))


async def test_the_record_refers_to_jpegs_stored_apart_and_they_go_with_the_capture(integrator):
    session = await sync_to_async(make_session)(integrator.account)
    socket, _ = await authed_socket(session.id, session_token_issue(session_id=session.id))
    user = ScriptedUser(passive_blink=True)
    # A few face frames: the best frame and the first key frame are kept once the baseline is taken (after five
    # face frames, later when a blink falls among them: the user here blinks after eight).
    state: dict = {}
    for _ in range(30):
        await stream_until(socket, user, kind="feedback", gap=0.105, on_message=user.on_message)
        record = await sync_to_async(capture_record_get)(session_id=str(session.id))
        assert record is not None and record["state"], record
        state = json.loads(record["state"])
        if state["best"]:
            break
    assert state["best"] and "jpeg" not in state["best"] and "ref" in state["best"]
    assert len(record["state"]) < 40_000, len(record["state"])
    refs = record["blobs"]
    assert state["best"]["ref"] in refs
    stored = await sync_to_async(cache.get_many)([f"capture:blob:{session.id}:{ref}" for ref in refs])
    assert len(stored) == len(refs) and all(jpeg.startswith(JPEG_MAGIC) for jpeg in stored.values())
    assert len(_blob_keys(session.id)) == len(refs)  # a replaced best frame is deleted, not left behind

    messages = await stream_until(socket, user, gap=0.105, timeout=30, on_message=user.on_message)
    await socket.disconnect()
    assert messages[-1]["type"] == "result" and messages[-1]["verdict"] == "pass", messages[-1]
    # The verdict had the JPEGs: the attempt kept its thumbnails; then they left Redis with the capture.
    attempt = await sync_to_async(SessionAttempt.objects.get)(session_id=session.id, number=1)
    assert await sync_to_async(attempt.thumbnails.filter(kind="best").count)() == 1
    assert _blob_keys(session.id) == []
