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
    def acquire_reading(self, key: str) -> tuple[bool, Any]: ...
    def release_writing(self, key: str, value: Any, timeout: int) -> None: ...


# A frame took the lock, read the capture record, wrote it back and released the lock: four round trips to
# Redis, now two. Each script does what the separate commands did, in the same order.
_ACQUIRE_READING = """
local taken = redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
if not taken then return {0, false} end
return {1, redis.call('get', KEYS[2])}
"""
_RELEASE_WRITING = """
redis.call('set', KEYS[2], ARGV[2], 'EX', ARGV[3])
local token = redis.call('get', KEYS[1])
if not token or token ~= ARGV[1] then return 0 end
redis.call('del', KEYS[1])
return 1
"""
_registered: dict[int, tuple[Any, Any]] = {}  # the two scripts, by the Redis client they were registered on


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

    def _scripts(self) -> tuple[Any, Any]:
        client = self._lock.redis
        scripts = _registered.get(id(client))
        if scripts is None:
            scripts = _registered[id(client)] = (
                client.register_script(_ACQUIRE_READING),
                client.register_script(_RELEASE_WRITING),
            )
        return scripts

    def acquire_reading(self, key: str) -> tuple[bool, Any]:
        """``acquire()``, and the cache's value under ``key`` (None: none, or not acquired), in one round trip."""
        backend: Any = cache
        keys = [self._lock.name, backend.make_and_validate_key(key)]
        taken, raw = self._scripts()[0](keys=keys, args=[self._token, int(LOCK_TTL_SECONDS * 1000)])
        if not taken:
            return False, None
        self._lock.local.token = self._token  # as redis-py's acquire() notes it, for extend() and release()
        return True, None if raw is None else backend._cache._serializer.loads(raw)

    def release_writing(self, key: str, value: Any, timeout: int) -> None:
        """``cache.set(key, value, timeout)``, then ``release()``, in one round trip."""
        backend: Any = cache
        keys = [self._lock.name, backend.make_and_validate_key(key)]
        data = backend._cache._serializer.dumps(value)
        self._lock.local.token = None
        if not self._scripts()[1](keys=keys, args=[self._token, data, backend.get_backend_timeout(timeout)]):
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

    def acquire_reading(self, key: str) -> tuple[bool, Any]:
        return (True, cache.get(key)) if self.acquire() else (False, None)

    def release_writing(self, key: str, value: Any, timeout: int) -> None:
        cache.set(key, value, timeout=timeout)
        self.release()


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


class LockReading:
    """What :func:`session_lock_reading` yields: whether the lock is held, the value read with it, and the
    write that releases it."""

    def __init__(self, lock: _Held, acquired: bool, value: Any) -> None:
        self.acquired, self.value, self._lock = acquired, value, lock
        self.released = False

    def write_and_release(self, key: str, value: Any, timeout: int) -> None:
        """``cache.set(key, value, timeout)`` and the lock's release, in one round trip on Redis."""
        self.release(written=(key, value, timeout))

    def release(self, written: tuple[str, Any, int] | None = None) -> None:
        """Release the lock once, with the write ``written`` when given."""
        if self.acquired and not self.released:
            self.released = True
            _renewer.release(self._lock)
            if written is None:
                self._lock.release()
            else:
                self._lock.release_writing(*written)


@contextmanager
def session_lock_reading(*, session_id: str, key: str) -> Iterator[LockReading]:
    """``session_lock`` (no wait) that also reads the cache's ``key`` in the round trip taking the lock.

    The block may end with ``write_and_release`` (a frame saving the capture record it read); otherwise the lock
    is released on the way out, as ``session_lock`` does.
    """
    lock = _new_lock(session_id)
    acquired, value = lock.acquire_reading(key)
    held = LockReading(lock, acquired, value)
    if acquired:
        _renewer.hold(lock)
    try:
        yield held
    finally:
        held.release()


def session_lock_held(*, session_id: str) -> bool:
    """Whether a live process is working on the session right now."""
    return cache.get(_lock_key(session_id)) is not None
