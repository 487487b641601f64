"""The per-session lock never removes or extends a lock that another holder took after it lapsed.

Run on both stores it lives in: Redis (production; redis-py's Lua scripts) and locmem (the embedded default).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager

import pytest
from django.core.cache import cache
from django.test import override_settings

from apps.sessions import session_locks
from apps.sessions.session_locks import LOCK_TTL_SECONDS, session_lock, session_lock_held, session_lock_reading
from tests.conftest import require_redis

LOCK_KEY = "capture:lock:{}"


def _on_redis() -> AbstractContextManager[None]:
    url = require_redis()
    return override_settings(CACHES={"default": {"BACKEND": "apps.core.cache.SharedRedisCache", "LOCATION": url}})


@pytest.fixture(params=["redis", "locmem"])
def store(request: pytest.FixtureRequest) -> Iterator[str]:
    local = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "locks"}}
    with _on_redis() if request.param == "redis" else override_settings(CACHES=local):
        yield request.param


@pytest.fixture
def redis_store() -> Iterator[None]:
    with _on_redis():
        yield


def _session() -> str:
    return "lock-test-" + os.urandom(6).hex()


def _take_over(session_id: str) -> None:
    """What a lapse looks like to the old holder: its lock expired and another process took the session."""
    cache.set(LOCK_KEY.format(session_id), "another-holders-token", timeout=LOCK_TTL_SECONDS)


def test_the_lock_is_exclusive_and_free_again_after_its_release(store):
    session_id = _session()
    with session_lock(session_id=session_id) as first:
        assert first
        assert session_lock_held(session_id=session_id)
        with session_lock(session_id=session_id) as second:
            assert not second
    assert not session_lock_held(session_id=session_id)
    with session_lock(session_id=session_id) as again:
        assert again


def test_a_holder_whose_lock_lapsed_leaves_the_new_holders_lock_in_place(store):
    session_id = _session()
    with session_lock(session_id=session_id) as acquired:
        assert acquired
        _take_over(session_id)
    assert cache.get(LOCK_KEY.format(session_id)) == "another-holders-token"


def test_a_lock_taken_between_the_old_holders_check_and_its_delete_survives(redis_store, monkeypatch):
    """On Redis the release is one step: a lapse and a takeover cannot slip in between comparing and deleting.

    The takeover lands right after the release's first Redis command on the lock. Fails on a release made
    of a GET and then a DEL. (In locmem the lock lives in this one process, and every lock operation holds
    one mutex.)
    """
    session_id = _session()
    redis_key = cache.make_key(LOCK_KEY.format(session_id))
    client = cache._cache.get_client(write=True)
    real_execute = client.execute_command
    armed = {"on": False, "done": False}

    def execute_then_lapse(*args: object, **options: object) -> object:
        result = real_execute(*args, **options)
        if armed["on"] and not armed["done"] and any(redis_key in str(a) for a in args[1:]):
            armed["done"] = True
            _take_over(session_id)
        return result

    monkeypatch.setattr(client, "execute_command", execute_then_lapse)
    with session_lock(session_id=session_id) as acquired:
        assert acquired
        armed["on"] = True
    assert armed["done"]
    assert cache.get(LOCK_KEY.format(session_id)) == "another-holders-token"


def test_the_renewer_keeps_a_held_lock_and_never_extends_another_holders(store, monkeypatch):
    monkeypatch.setattr(session_locks, "LOCK_TTL_SECONDS", 2)
    monkeypatch.setattr(session_locks, "_LOCK_RENEW_SECONDS", 0.25)
    monkeypatch.setattr(session_locks._renewer, "_pid", 0)  # a fresh renewer thread at the shorter period
    ours, theirs = _session(), _session()
    with session_lock(session_id=ours) as acquired:
        assert acquired
        with session_lock(session_id=theirs) as acquired_too:
            assert acquired_too
            cache.set(LOCK_KEY.format(theirs), "another-holders-token", timeout=1)  # lapsed and taken
            time.sleep(3.0)
            assert session_lock_held(session_id=ours)  # renewed: still held past its 2 s TTL
            assert not session_lock_held(session_id=theirs)  # the other holder's 1 s ran out: not extended
    assert not session_lock_held(session_id=ours)


def test_a_lock_taken_with_a_read_is_exclusive_and_its_write_releases_it(store):
    """``session_lock_reading``: the lock and the record in one step, the record's write and the release in
    another; without the write, the block's end releases the lock as ``session_lock`` does."""
    session_id, key = _session(), "lock-read-" + os.urandom(6).hex()
    cache.set(key, b"the record", timeout=60)
    with session_lock_reading(session_id=session_id, key=key) as held:
        assert held.acquired and held.value == b"the record"
        with session_lock_reading(session_id=session_id, key=key) as other:
            assert not other.acquired and other.value is None
        held.write_and_release(key, b"the record, one frame on", 60)
        assert not session_lock_held(session_id=session_id)  # released with the write, inside the block
        assert cache.get(key) == b"the record, one frame on"
    with session_lock_reading(session_id=session_id, key=key) as again:
        assert again.acquired and again.value == b"the record, one frame on"
    assert not session_lock_held(session_id=session_id)


def test_a_reading_holder_whose_lock_lapsed_writes_and_leaves_the_new_holders_lock(store):
    session_id, key = _session(), "lock-read-" + os.urandom(6).hex()
    with session_lock_reading(session_id=session_id, key=key) as held:
        assert held.acquired and held.value is None
        _take_over(session_id)
        held.write_and_release(key, b"written", 60)
    assert cache.get(LOCK_KEY.format(session_id)) == "another-holders-token"
    assert cache.get(key) == b"written"  # as a frame's save always did: the record is not fenced by the lock


def test_a_frame_takes_the_lock_and_its_record_and_saves_and_releases_in_two_round_trips(redis_store, monkeypatch):
    session_id, key = _session(), "lock-read-" + os.urandom(6).hex()
    client = cache._cache.get_client(write=True)
    with session_lock_reading(session_id=session_id, key=key) as held:  # the scripts are loaded once
        held.write_and_release(key, b"warm", 60)
    commands = []
    real_execute = client.execute_command

    def recorded(*args: object, **options: object) -> object:
        commands.append(args[0])
        return real_execute(*args, **options)

    monkeypatch.setattr(client, "execute_command", recorded)
    with session_lock_reading(session_id=session_id, key=key) as held:
        assert held.acquired and held.value == b"warm"
        held.write_and_release(key, b"saved", 60)
    assert commands == ["EVALSHA", "EVALSHA"]  # was SET NX, GET, SET and the release script's EVALSHA
    assert cache.get(key) == b"saved" and not session_lock_held(session_id=session_id)
