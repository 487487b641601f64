"""Django's Redis cache with one client, and so one connection pool, per server in the process.

Django's ``RedisCacheClient`` builds a new ``redis.Redis`` for every cache call
(redis-py fills a ~170-entry table of response callbacks in each: about 0.3 ms of
CPU), and ``caches`` gives every thread its own backend with its own connection
pool. Under Django's ASGI handler each request ran in a thread of its own, so every
request opened new TCP connections to Redis. A ``redis.Redis`` is thread-safe (each command takes a
connection from its pool) and its pool re-opens connections after a fork, so one
client per server URL and options serves the whole process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

_clients: dict[tuple[str, str], Any] = {}
_clients_lock = threading.Lock()


class SharedRedisCacheClient(RedisCacheClient):
    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        django: Any = self  # Django's private attributes, which its type stubs leave out
        server = django._servers[django._get_connection_pool_index(write)]
        ident = (server, repr(sorted(django._pool_options.items())))
        client = _clients.get(ident)
        if client is None:
            with _clients_lock:
                client = _clients.get(ident)
                if client is None:
                    pool = django._pool_class.from_url(server, **django._pool_options)
                    client = _clients[ident] = django._client(connection_pool=pool)
        return client


class SharedRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SharedRedisCacheClient


_read_ahead: ContextVar[tuple[str, dict[str, Any]] | None] = ContextVar("cache_read_ahead", default=None)


@contextmanager
def cache_read_ahead(keys: Iterable[str], *, alias: str = "default") -> Iterator[None]:
    """Read ``keys`` from cache ``alias`` in one round trip; inside the block, :func:`cache_read` answers them
    from that read instead of asking the cache again.

    An authenticated API request read three keys one after another (the failed-authentication counters, the
    API keys version, the key's known address), each a round trip to Redis. When the read fails, every
    reader asks the cache itself, as without the block, and handles the outage as it always did.
    """
    wanted = list(keys)
    try:
        found = caches[alias].get_many(wanted)
    except Exception:
        found = None
    token = _read_ahead.set(None if found is None else (alias, {key: found.get(key) for key in wanted}))
    try:
        yield
    finally:
        _read_ahead.reset(token)


def cache_read(key: str, *, alias: str = "default") -> Any:
    """``caches[alias].get(key)``, answered from the enclosing :func:`cache_read_ahead` when it read ``key``."""
    ahead = _read_ahead.get()
    if ahead is not None and ahead[0] == alias and key in ahead[1]:
        return ahead[1][key]
    return caches[alias].get(key)


def cache_read_many(keys: list[str], *, alias: str = "default") -> dict[str, Any]:
    """``caches[alias].get_many(keys)`` (found keys only), from the enclosing read-ahead when it read them all."""
    ahead = _read_ahead.get()
    if ahead is not None and ahead[0] == alias and all(key in ahead[1] for key in keys):
        return {key: ahead[1][key] for key in keys if ahead[1][key] is not None}
    return caches[alias].get_many(keys)
