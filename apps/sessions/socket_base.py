"""What the service's sockets share: JSON messages, errors, documented close codes and spawned tasks.

``SessionConsumer`` (the capture socket) builds on it; ``UnknownPathConsumer`` answers any other
socket path with a documented close instead of a routing exception. Protocol: docs/websocket.md.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine, Mapping
from typing import Any

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer

from .events import ErrorMessage
from .protocol import CloseCode


class SocketBase(AsyncWebsocketConsumer):
    closed = False
    pending: set[asyncio.Task[None]]

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels' dispatch first closes stale database connections, a hop to the sync thread for every
        # message (every frame); these consumers reach the database only through database_sync_to_async,
        # which closes them in the thread that uses them.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def _send(self, message: Mapping[str, object]) -> None:
        if not self.closed:
            await self.send(text_data=json.dumps(message))

    async def _error(self, code: str, message: str) -> None:
        error: ErrorMessage = {"type": "error", "code": code, "message": message}
        await self._send(error)

    async def _refuse(self, code: str, message: str) -> None:
        await self._error(code, message)
        await self._close(CloseCode.UNAUTHENTICATED)

    async def _close(self, code: CloseCode) -> None:
        if not self.closed:
            self.closed = True
            await self.close(code=int(code))  # a plain int: autobahn (daphne) refuses int subclasses


class UnknownPathConsumer(SocketBase):
    """Any other WebSocket path: a documented close instead of a routing exception."""

    async def connect(self) -> None:
        await self.accept()
        await self._error("unknownSession", "No such socket path.")
        await self._close(CloseCode.UNKNOWN_SESSION)
