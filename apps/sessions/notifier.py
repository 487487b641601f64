"""The one way workers talk to capture sockets: the session's channel-layer group.

Worker processes publish from synchronous code. ``async_to_sync`` would build a
new event loop, and with it a new Redis connection, for every message; a
long-lived loop in a daemon thread keeps channels-redis' connection pool warm
instead (about 1 ms per message rather than tens). The in-memory layer of the
embedded mode lives on the server's own loop, so it keeps ``async_to_sync``,
which hands the call to that loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

from .events import ChannelEvent, ServerMessage, ServerMessageEvent, session_group

logger = logging.getLogger(__name__)
_SEND_TIMEOUT_SECONDS = 2.0
_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def _publisher_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _loop_lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="capture-notifier", daemon=True).start()
            _loop = loop
        return _loop


def _group_send(layer: Any, group: str, event: dict[str, Any]) -> None:
    if isinstance(layer, InMemoryChannelLayer):
        async_to_sync(layer.group_send)(group, event)
        return
    future = asyncio.run_coroutine_threadsafe(layer.group_send(group, event), _publisher_loop())
    future.result(timeout=_SEND_TIMEOUT_SECONDS)


def notify(*, session_id: str, event: ChannelEvent) -> None:
    """Publish ``event`` to the session's sockets. Best effort: the DB is the source of truth."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        _group_send(layer, session_group(str(session_id)), dict(event))
    except Exception:  # a lost notification must never fail a verdict
        logger.warning("Could not notify session %s", session_id, exc_info=True)


def notify_message(*, session_id: str, message: ServerMessage) -> None:
    event: ServerMessageEvent = {"type": "capture.message", "message": message}
    notify(session_id=session_id, event=event)
