"""Readiness checks: each returns (ok, detail) and never raises."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from .database import database_ping
from .engine import engine_status

Check = Callable[[], tuple[bool, str]]
# One client (and connection pool) per broker URL: a probe every few seconds reuses its connection instead of
# opening one per probe and leaving it to the garbage collector.
_brokers: dict[str, redis.Redis] = {}


def _broker(url: str) -> redis.Redis:
    client = _brokers.get(url)
    if client is None:
        client = _brokers.setdefault(url, redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2))
    return client


def check_database() -> tuple[bool, str]:
    try:
        return True, database_ping()
    except Exception as exc:
        return False, type(exc).__name__


def check_broker() -> tuple[bool, str]:
    if not settings.REDIS_URL:
        return True, "embedded (in-process tasks)"
    try:
        _broker(settings.REDIS_URL).ping()
        return True, "redis"
    except Exception as exc:
        return False, type(exc).__name__


def check_channel_layer() -> tuple[bool, str]:
    layer = get_channel_layer()
    if layer is None:
        return False, "not configured"

    async def round_trip() -> None:
        channel = f"health.{uuid.uuid4().hex}"
        await layer.send(channel, {"type": "health.ping"})
        await asyncio.wait_for(layer.receive(channel), timeout=2)

    try:
        async_to_sync(round_trip)()
        return True, type(layer).__name__
    except Exception as exc:
        return False, type(exc).__name__


def check_face_engine() -> tuple[bool, str]:
    try:
        return engine_status()
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"


CHECKS: dict[str, Check] = {
    "database": check_database,
    "broker": check_broker,
    "channelLayer": check_channel_layer,
    "faceEngine": check_face_engine,
}


def readiness() -> tuple[bool, dict[str, dict[str, object]]]:
    results = {}
    for name, check in CHECKS.items():
        ok, detail = check()
        results[name] = {"ok": ok, "detail": detail}
    return all(r["ok"] for r in results.values()), results
