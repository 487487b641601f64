"""The per-session lock: one process at a time analyses a session's frames or computes its verdict.

On Redis the lock is redis-py's ``Lock`` (``SET NX PX`` to take it, a Lua script that compares the
token and deletes or extends in one step), so a holder whose lock lapsed while it was paused never
deletes or extends the lock another process took since. The value stored is the token as Django's
Redis cache serialises it, under the cache's own key, so ``cache.get`` still reads it. On the
embedded default (locmem, one process) the same checks run under a process-wide mutex.

The lock expires after LOCK_TTL_SECONDS unless its holder renews it: one thread per process renews
every lock the process holds, once a second, so only a dead holder's lock lapses.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from django.core.cache import cache
from redis.exceptions import LockError
from redis.lock import Lock as RedisLock

logger = logging.getLogger(__name__)

# A session's lock lives this long unless its holder renews it (every second while it works), so a
# lock left by a killed worker blocks the session for a few seconds, not for a whole capture.
LOCK_TTL_SECONDS = 4
_LOCK_RENEW_SECONDS = 1.0
_LOCK_POLL_SECONDS = 0.02


class _Held(Protocol):
    def acquire(self) -> bool: ...
    def extend(self) -> bool: ...
    def release(self) -> None: ...


class _OnRedis:
    """A lock in Redis, checked and changed atomically by redis-py's Lua scripts."""

    def __init__(self, key: str) -> None:
        backend: Any = cache  # the Redis cache's private client and serializer, which its type stubs leave out
        self._token = backend._cache._serializer.dumps(uuid.uuid4().hex)
        self._lock = RedisLock(
            backend._cache.get_client(write=True),
            backend.make_and_validate_key(key),
            timeout=LOCK_TTL_SECONDS,
            blocking=False,
            thread_local=False,  # the renewer thread extends a lock another thread took
        )

    def acquire(self) -> bool:
        return bool(self._lock.acquire(token=self._token))

    def extend(self) -> bool:
        try:
            self._lock.reacquire()  # back to the full TTL, only while the token is still ours
        except LockError:
            return False
        return True

    def release(self) -> None:
        try:
            self._lock.release()  # deletes only while the token is still ours
        except LockError:
            logger.info("Session lock %s had lapsed before its release", self._lock.name)


_local_mutex = threading.Lock()


class _InProcess:
    """A lock in the process's own cache (locmem): each check and change happens under one mutex."""

    def __init__(self, key: str) -> None:
        self._key, self._token = key, uuid.uuid4().hex

    def acquire(self) -> bool:
        with _local_mutex:
            return bool(cache.add(self._key, self._token, timeout=LOCK_TTL_SECONDS))

    def extend(self) -> bool:
        with _local_mutex:
            return cache.get(self._key) == self._token and bool(cache.touch(self._key, LOCK_TTL_SECONDS))

    def release(self) -> None:
        with _local_mutex:
            if cache.get(self._key) == self._token:
                cache.delete(self._key)


def _lock_key(session_id: str) -> str:
    return f"capture:lock:{session_id}"


def _new_lock(session_id: str) -> _Held:
    backend: Any = cache
    on_redis = hasattr(backend, "_cache") and hasattr(backend._cache, "get_client")
    return _OnRedis(_lock_key(session_id)) if on_redis else _InProcess(_lock_key(session_id))


class _LockRenewer:
    """One thread per process renews every session lock the process holds, once a second.

    A thread per lock cost every frame a thread start (a fork-safe handshake that, on a busy core, took
    longer than the Redis calls of the frame). The thread starts with the first lock and again in a forked
    child (a fork keeps no threads); a lock that expired and another worker took is dropped, never extended.
    """

    def __init__(self) -> None:
        self._held: set[_Held] = set()
        self._mutex = threading.Lock()
        self._pid = 0

    def hold(self, lock: _Held) -> None:
        with self._mutex:
            self._held.add(lock)
            if self._pid != os.getpid():
                self._pid = os.getpid()
                threading.Thread(target=self._run, args=(self._pid,), name="session-locks", daemon=True).start()

    def release(self, lock: _Held) -> None:
        with self._mutex:
            self._held.discard(lock)

    def _run(self, pid: int) -> None:
        while self._pid == pid:
            time.sleep(_LOCK_RENEW_SECONDS)
            with self._mutex:
                held = list(self._held)
            for lock in held:
                try:
                    if not lock.extend():  # expired and perhaps taken by another worker: never extend that
                        self.release(lock)
                except Exception:  # a cache outage must not end the thread; the next tick tries again
                    logger.warning("Could not renew a session lock", exc_info=True)


_renewer = _LockRenewer()


@contextmanager
def session_lock(*, session_id: str, wait: float = 0.0) -> Iterator[bool]:
    """Yield whether this process holds the session's lock.

    Held while a frame is analysed or the verdict computed. ``wait`` seconds: how long to keep
    trying while another holder has it (a frame holds it for milliseconds); 0 gives up at once.
    """
    lock = _new_lock(session_id)
    deadline = time.monotonic() + wait
    acquired = lock.acquire()
    while not acquired and time.monotonic() < deadline:
        time.sleep(_LOCK_POLL_SECONDS)
        acquired = lock.acquire()
    if acquired:
        _renewer.hold(lock)
    try:
        yield acquired
    finally:
        if acquired:
            _renewer.release(lock)
            lock.release()


def session_lock_held(*, session_id: str) -> bool:
    """Whether a live process is working on the session right now."""
    return cache.get(_lock_key(session_id)) is not None
