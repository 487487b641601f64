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
from typing import Any

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
