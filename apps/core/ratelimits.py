"""Rate limits: every limited door counts through django-ratelimit, in the shared cache.

A limit is a rate string (``"10/h"``, ``"20/10m"``) and a key: the client
address (:func:`client_address`) or any value the caller names (an API key's
prefix). The caller decides what to answer; :class:`RateLimitExceeded` carries
the seconds to put in ``Retry-After``. Limits fail open: a cache outage must
not take the API down with it.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import time
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit import ALL
from django_ratelimit.core import _get_window, _make_cache_key, _split_rate, get_usage

from .addresses import address_clean
from .cache import cache_read_many
from .metrics import rate_limit_refused

logger = logging.getLogger(__name__)


class RateLimitExceeded(Exception):  # noqa: N818 - reads as the outcome it is
    """The limit is used up; ``retry_after`` seconds until its window ends."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Rate limit exceeded; retry after {retry_after} s.")
        self.retry_after = retry_after


def client_address(request: HttpRequest) -> str:
    """The client as limits count it: an IPv4 address, or the IPv6 network of ``RATELIMIT_IPV6_MASK`` bits.

    One IPv6 subscriber usually holds a whole /64, so counting single IPv6 addresses would count nothing.
    Behind a proxy, ``python -m config.serve --proxy-headers`` puts the real client in REMOTE_ADDR.
    """
    return address_key(str(request.META.get("REMOTE_ADDR") or "unknown"))


def address_key(raw: str) -> str:
    """``raw`` as one client: an IPv4 address or its IPv6 network of ``RATELIMIT_IPV6_MASK`` bits (else ``raw``)."""
    return _address_key(raw, int(settings.RATELIMIT_IPV6_MASK))


@functools.lru_cache(maxsize=4096)
def _address_key(raw: str, ipv6_bits: int) -> str:
    """``address_key``: a pure function of the address and the IPv6 prefix length, remembered."""
    clean = address_clean(raw)  # an IPv4-mapped address counts as its IPv4 client, not as the network ::/64
    if clean is None:
        return raw
    address = ipaddress.ip_address(clean)
    bits = ipv6_bits if address.version == 6 else 32
    return str(ipaddress.ip_network(f"{address}/{bits}", strict=False).network_address)


def axes_client_address(request: HttpRequest) -> str | None:
    """The admin login lockout's client (``AXES_CLIENT_IP_CALLABLE``): counted as the other limits count it,
    an IPv6 client by its network, so rotating addresses inside one /64 does not reset the count (None: no
    address, as django-axes' own lookup answers then)."""
    if address_clean(request.META.get("REMOTE_ADDR")) is None:
        return None
    return client_address(request)


def _raise_if_limited(usage: dict[str, Any] | None, *, group: str) -> None:
    if usage is not None and usage["should_limit"]:
        rate_limit_refused(limit=group)
        raise RateLimitExceeded(max(int(usage["time_left"]), 1))


def rate_limit_count(*, group: str, rate: str, key: str) -> None:
    """Count one use of ``group`` by ``key``; raise RateLimitExceeded when this use is over ``rate``."""
    try:
        # The key is computed by the caller, so the request django-ratelimit would read it from is a blank one.
        usage = get_usage(HttpRequest(), group=group, key=lambda _group, _request: key, rate=rate, increment=True)
    except Exception:
        logger.warning("Rate limit %s could not be counted; letting the request through", group, exc_info=True)
        return
    _raise_if_limited(usage, group=group)


def _counters(limits: Sequence[tuple[str, str, str]]) -> list[tuple[str, int, int, str]]:
    """(group, limit, window end, cache key) of each ``(group, rate, key)``: django-ratelimit's own keys."""
    counters = []
    for group, rate, key in limits:
        limit, period = _rate_split(rate)
        window = _get_window(key, period)
        counters.append((group, limit, window, _cache_key(group, window, rate, key)))
    return counters


# Both remembered: django-ratelimit parses the rate with a regular expression and imports its hash setting's
# class on every key it makes, for the same few limits over and over (a window's keys stay the same until it ends).
_rate_split = functools.lru_cache(maxsize=256)(_split_rate)


@functools.lru_cache(maxsize=4096)
def _cache_key(group: str, window: int, rate: str, key: str) -> str:
    return str(_make_cache_key(group, window, rate, key, ALL))


def rate_limit_cache_keys(limits: Sequence[tuple[str, str, str]]) -> list[str]:
    """The cache keys :func:`rate_limits_check` reads (for a :func:`apps.core.cache.cache_read_ahead`)."""
    return [cache_key for *_, cache_key in _counters(limits)]


def rate_limits_check(limits: Sequence[tuple[str, str, str]]) -> None:
    """Raise RateLimitExceeded when any ``(group, rate, key)`` has already used up its rate; counts nothing.

    Reads every counter that :func:`rate_limit_count` keeps (django-ratelimit's own cache keys and windows) with
    one cache round trip, or none inside a read-ahead of :func:`rate_limit_cache_keys`, and writes nothing:
    django-ratelimit's ``get_usage`` writes a zero counter and reads it back, two round trips per limit, on each
    check (a quarter of an authenticated API request's time).
    """
    if not getattr(settings, "RATELIMIT_ENABLE", True) or not limits:
        return
    counters = _counters(limits)
    try:
        counts = cache_read_many([cache_key for *_, cache_key in counters], alias=settings.RATELIMIT_USE_CACHE)
    except Exception:
        logger.warning("Rate limits %s could not be read; letting the request through", limits, exc_info=True)
        return
    for group, limit, window, cache_key in counters:
        usage = {"should_limit": int(counts.get(cache_key) or 0) > limit, "time_left": window - int(time.time())}
        _raise_if_limited(usage, group=group)  # as get_usage would have answered
