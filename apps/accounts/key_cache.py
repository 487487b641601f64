"""A per-process cache of authenticated API keys, dropped by every process at once when keys or accounts change.

Every API request authenticates its key, which cost one SELECT (the key joined with its account) each time.
Keys that authenticated are kept here for ``API_KEY_CACHE_SECONDS``, under their prefix and keyed hash (never
the plaintext). Any save or delete of a key or an account, and the services' UPDATEs of keys, bump one integer
in the shared cache, the keys version: an entry cached under another version is never used, so a revocation
takes effect on every process's next request, not after the TTL. Reading the version is one cache GET per
request; when the cache cannot be read, keys are looked up in the database as before, and the keys this
process had cached are dropped (a change made during the outage could not bump the version).
"""

from __future__ import annotations

import copy
import hmac
import logging
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from time import monotonic
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from apps.core.cache import cache_read

from .models import ApiKey

logger = logging.getLogger(__name__)

VERSION_KEY = "accounts:api-keys:version"
MAX_ENTRIES = 1000

EntryKey = tuple[str, str]  # (prefix, hashed key)


@dataclass
class _Entry:
    api_key: ApiKey  # never handed out: callers get copies, as requests in other threads use it too
    version: int
    cached_at: float  # monotonic()


class KeyLru:
    """At most ``max_entries`` keys, the least recently used dropped first; safe across threads."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[EntryKey, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._max_entries = max_entries

    def get(self, key: EntryKey, *, version: int, ttl: float) -> ApiKey | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.version != version or monotonic() - entry.cached_at >= ttl:
                return None
            self._entries.move_to_end(key)
            return _detached(entry.api_key)

    def put(self, key: EntryKey, api_key: ApiKey, *, version: int) -> None:
        with self._lock:
            self._entries[key] = _Entry(_detached(api_key), version, monotonic())
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def touch(self, key: EntryKey, at: datetime) -> None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                entry.api_key.last_used_at = at

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


_keys = KeyLru()


def _detached(api_key: ApiKey) -> ApiKey:
    """A copy of the key and its account, so no two requests share (and could change) one instance."""
    detached = copy.copy(api_key)
    detached.account = copy.copy(api_key.account)
    return detached


def keys_version() -> int | None:
    """The shared keys version; None when the cache cannot be read (then nothing cached is trusted)."""
    try:
        version = cache_read(VERSION_KEY)
        if version is None:
            # A new or flushed cache, or an eviction: restart at a random value, never one an entry may hold.
            cache.add(VERSION_KEY, secrets.randbits(62), timeout=None)
    except Exception:
        logger.warning("The API keys version could not be read; looking the key up in the database", exc_info=True)
        # A change made while the cache is down cannot bump the version: what this process cached before
        # would be trusted again, under the same version, once the cache is back.
        _keys.clear()
        return None
    return None if version is None else int(version)


def _version_bump() -> None:
    _keys.clear()
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # missing: start afresh (keys_version explains why at random)
        cache.add(VERSION_KEY, secrets.randbits(62), timeout=None)
    except Exception:
        logger.exception(
            "The API keys version could not be bumped: other processes may accept a changed key for %s s",
            settings.API_KEY_CACHE_SECONDS,
        )


def keys_version_bump() -> None:
    """Make every process drop the keys it cached: now, and again when the current transaction commits.

    The second bump closes a race: a process that reads the new version before the commit could still load
    and cache the row as it was.
    """
    _version_bump()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(_version_bump)


def keys_changed(**kwargs: Any) -> None:
    """post_save / post_delete receiver for the models a cached key carries (ApiKey, Account, BrandLogo)."""
    keys_version_bump()


def api_key_cached(*, prefix: str, hashed_key: str, load: Callable[[], ApiKey | None]) -> ApiKey | None:
    """The key under ``prefix`` from this process's cache while it is fresh and current, else ``load()``.

    Only a loaded key whose hash matches ``hashed_key`` is kept (the caller compares every key it gets in
    constant time).
    """
    ttl = float(settings.API_KEY_CACHE_SECONDS)
    version = keys_version() if ttl > 0 else None
    if version is None:
        return load()
    api_key = _keys.get((prefix, hashed_key), version=version, ttl=ttl)
    if api_key is not None:
        return api_key
    api_key = load()  # after reading the version: a change committed since then bumps it past this entry's
    if api_key is not None and hmac.compare_digest(api_key.hashed_key, hashed_key):
        _keys.put((prefix, hashed_key), api_key, version=version)
    return api_key


def api_key_cache_touch(*, prefix: str, hashed_key: str, at: datetime) -> None:
    """Record in the cached entry that the key's ``last_used_at`` was just written, so hits do not write it again."""
    _keys.touch((prefix, hashed_key), at)
