"""The "keys" queue never holds a face: its messages carry a reference, the crop waits in the cache.

Production may run without a key-frame worker (docs/operations.md): nobody then takes the queue's messages,
and Celery's ``expires`` is read only by a worker taking one. Real Redis (broker and cache) in CI.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator

import pytest
import redis
from django.conf import settings
from django.core.cache import cache

from apps.face_engine.types import PendingKeyFrame
from apps.sessions import services, tasks
from apps.sessions.models import Session
from apps.sessions.services import key_frames
from apps.sessions.state_store import capture_record_get, key_crop_take, key_embeddings_get
from tests.conftest import require_redis
from tests.face_engine.synth_capture import passive_clip

from .conftest import PASSIVE, make_session

pytestmark = pytest.mark.django_db

CROP = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8  # stands for a key frame's face crop (JPEG)


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    """The real Redis broker, with no worker on the "keys" queue: messages stay queued."""
    require_redis()
    from config.celery import app

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete("keys")
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        yield client
    finally:
        app.conf.task_always_eager = eager
        client.delete("keys")


def _capturing(integrator, verifiers: dict | None = None) -> tuple[str, str]:
    session = make_session(integrator.account, verifiers)
    Session.objects.filter(id=session.id).update(status="in_progress", attempt=1)
    record = services.capture_attempt_reset(session=session)
    return str(session.id), record["gen"]


def _queued_args(broker: redis.Redis) -> list[list]:
    """The arguments of each message waiting in the "keys" queue, newest first."""
    bodies = [json.loads(raw)["body"] for raw in broker.lrange("keys", 0, -1)]
    return [json.loads(base64.b64decode(body))[0] for body in bodies]


def _crop_key(sid: str, ref: int) -> str:
    return cache.make_key(f"capture:keycrop:{sid}:{ref}")


def test_a_queued_key_frame_leaves_no_face_in_the_broker_and_its_crop_goes_with_the_session(integrator, broker):
    sid, gen = _capturing(integrator)
    tasks.key_frame_embed_request(session_id=sid, gen=gen, key=PendingKeyFrame(1.2, CROP, (1, 2, 30, 40)))

    raw = broker.lrange("keys", 0, -1)
    assert len(raw) == 1
    assert base64.b64encode(CROP) not in base64.b64decode(json.loads(raw[0])["body"])
    [[session_id, message_gen, t, ref, box]] = _queued_args(broker)
    assert (session_id, message_gen, t, box) == (sid, gen, 1.2, [1, 2, 30, 40]) and isinstance(ref, int)
    # The crop waits in the cache, for a short while at most ...
    cache_client = redis.Redis.from_url(settings.REDIS_URL)
    assert cache.get(f"capture:keycrop:{sid}:{ref}") == CROP
    assert 0 < cache_client.ttl(_crop_key(sid, ref)) <= key_frames.KEY_EMBED_EXPIRES_S
    # ... and the queue's list itself goes once its messages have all expired.
    assert 0 < broker.ttl("keys") <= key_frames.KEY_EMBED_EXPIRES_S

    assert services.session_expire(session_id=sid)
    assert cache_client.exists(_crop_key(sid, ref)) == 0
    assert cache_client.keys(f"*capture:keycrop:{sid}*") == []


def test_a_key_frames_landmarks_wait_with_its_crop_in_the_cache_and_a_crop_of_an_earlier_version_is_still_read(
    integrator, broker
):
    """The face's landmarks in the crop (so the worker need not find the face again) are face geometry: they wait
    in the cache with the crop, never in the broker's message, and go when they are read."""
    sid, gen = _capturing(integrator)
    points = [round(0.5 * i, 1) for i in range(136)]
    tasks.key_frame_embed_request(
        session_id=sid, gen=gen, key=PendingKeyFrame(1.2, CROP, (1, 2, 30, 40), tuple(points))
    )
    [args] = _queued_args(broker)
    assert len(args) == 5 and "67.5" not in json.dumps(args)  # the message as before: no landmarks
    [*_, ref, _box] = args
    assert key_crop_take(session_id=sid, ref=ref) == (CROP, points)
    assert key_crop_take(session_id=sid, ref=ref) is None  # read once
    cache.set(f"capture:keycrop:{sid}:{ref}", CROP, timeout=60)  # as an earlier version kept it: the bytes alone
    assert key_crop_take(session_id=sid, ref=ref) == (CROP, None)


def test_a_crop_nobody_takes_leaves_the_cache_after_its_expiry(integrator, broker, monkeypatch):
    monkeypatch.setattr(key_frames, "KEY_EMBED_EXPIRES_S", 1)
    sid, gen = _capturing(integrator)
    tasks.key_frame_embed_request(session_id=sid, gen=gen, key=PendingKeyFrame(1.2, CROP))
    [[*_, ref, _box]] = _queued_args(broker)
    assert cache.get(f"capture:keycrop:{sid}:{ref}") == CROP
    time.sleep(1.5)
    assert cache.get(f"capture:keycrop:{sid}:{ref}") is None
    assert broker.exists("keys") == 0  # and so are the messages that referred to it


def test_without_a_key_frame_worker_the_queue_keeps_only_the_newest_requests(integrator, broker, monkeypatch):
    monkeypatch.setattr(key_frames, "KEY_QUEUE_MAX", 3)
    sid, gen = _capturing(integrator)
    for t in range(5):
        tasks.key_frame_embed_request(session_id=sid, gen=gen, key=PendingKeyFrame(float(t), CROP))
    assert [args[2] for args in _queued_args(broker)] == [4.0, 3.0, 2.0]


def test_no_request_is_queued_for_a_session_that_has_ended(integrator, broker):
    sid, gen = _capturing(integrator)
    assert services.session_expire(session_id=sid)
    tasks.key_frame_embed_request(session_id=sid, gen=gen, key=PendingKeyFrame(1.2, CROP))
    assert broker.llen("keys") == 0
    assert redis.Redis.from_url(settings.REDIS_URL).keys(f"*capture:keycrop:{sid}*") == []


def test_the_key_frame_worker_embeds_the_crop_it_is_referred_to_and_deletes_it(integrator, real_engine):
    """The embedded mode (eager tasks): each key frame of a live capture is embedded by the task as it comes."""
    verifiers = {**PASSIVE, "faceRecognition": {"type": "CalculationOnly", "collectionId": "keys"}}
    sid, gen = _capturing(integrator, verifiers)
    start = time.time()
    embedded: dict = {}
    for seq, frame in enumerate(passive_clip("astronaut", 3.5), start=1):
        services.session_frame_analyze(
            session_id=sid,
            gen=gen,
            seq=seq,
            frame_b64=services.frame_encode(frame),
            received_at=start + seq / 15,
            key_frame_request=tasks.key_frame_embed_request,
        )
        record = capture_record_get(session_id=sid)
        if record is None or record["complete"]:
            break
        times = [key["t"] for key in json.loads(record["state"])["keys"]]
        embedded = key_embeddings_get(session_id=sid, gen=gen, times=times)
        if embedded:
            break
    assert embedded, "no key frame was embedded before the capture ended"
    assert len(next(iter(embedded.values()))["embedding"]) == 128
    assert [key for key in cache_keys(sid) if ":keycrop:" in key and not key.endswith(":n")] == []


def test_a_request_whose_crop_has_gone_is_skipped(integrator, real_engine):
    sid, gen = _capturing(integrator)
    tasks.key_frame_embed(sid, gen, 1.2, 7, None)  # no crop was ever kept under 7 (or it expired)
    assert key_embeddings_get(session_id=sid, gen=gen, times=[1.2]) == {}
    assert cache.get(f"capture:keyemb:{sid}:1") is None


def cache_keys(sid: str) -> list[str]:
    """The cache's keys of the session (locmem on the embedded default, else Redis)."""
    if settings.REDIS_URL:
        return [key.decode() for key in redis.Redis.from_url(settings.REDIS_URL).keys(f"*capture:*:{sid}:*")]
    return [key for key in cache._cache if f":{sid}:" in key]  # type: ignore[attr-defined]
