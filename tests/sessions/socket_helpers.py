"""Drive the real ASGI app's capture socket with WebsocketCommunicator."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

from channels.testing import WebsocketCommunicator

from apps.sessions.protocol import CloseCode
from config.asgi import application

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


async def open_socket(session_id: Any, *, origin: tuple[bytes, bytes] = ORIGIN) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/v1/sessions/{session_id}/", headers=[origin])
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def app_ended(communicator: WebsocketCommunicator, timeout: float = 2) -> bool:
    """Whether the app behind ``communicator`` finished within ``timeout`` s, with no disconnect sent to it."""
    done, _ = await asyncio.wait({communicator.future}, timeout=timeout)
    return bool(done)


async def authed_socket(
    session_id: Any, token: str, *, device_id: str | None = None
) -> tuple[WebsocketCommunicator, dict[str, Any]]:
    """A socket that sent ``auth`` (with the SDK's ``deviceId`` when given) and got its first message."""
    communicator = await open_socket(session_id)
    auth = {"type": "auth", "token": token}
    if device_id is not None:
        auth["deviceId"] = device_id
    await communicator.send_json_to(auth)
    state = await communicator.receive_json_from(timeout=5)
    return communicator, state


async def receive_until(communicator: WebsocketCommunicator, kind: str, timeout: float = 5) -> list[dict[str, Any]]:
    """Every message up to and including the first of type ``kind``."""
    seen = []
    while True:
        message = await communicator.receive_json_from(timeout=timeout)
        seen.append(message)
        if message["type"] == kind:
            return seen


async def reply_after_late_frames(communicator: WebsocketCommunicator, timeout: float = 5) -> dict[str, Any]:
    """The next message that is not about a frame the client sent before it saw the verdict.

    A camera does not stop the moment the verdict is sent: frames already on the wire reach the consumer after it,
    and each gets a ``notCapturing`` error (or a ``slowDown``) that can arrive after the reply a test waits for."""
    while True:
        message = await communicator.receive_json_from(timeout=timeout)
        late = (message["type"] == "error" and message.get("code") == "notCapturing") or (
            message["type"] == "feedback" and message.get("codes") == ["slowDown"]
        )
        if not late:
            return message


async def closed_with(communicator: WebsocketCommunicator, timeout: float = 5) -> tuple[list[dict[str, Any]], int]:
    """Messages before the close, and the close code."""
    messages = []
    while True:
        output = await communicator.receive_output(timeout=timeout)
        if output["type"] == "websocket.close":
            return messages, output.get("code", CloseCode.NORMAL)
        messages.append(json.loads(output["text"]))


async def stream_until(
    communicator: WebsocketCommunicator,
    frames: Any,
    kind: str = "result",
    gap: float = 0.11,
    timeout: float = 30,
    on_message: Any = None,
) -> list[dict[str, Any]]:
    """Send frames every ``gap`` seconds (cycling ``frames``) until a message of type ``kind``; return all messages.

    On a loaded machine a passive hold whose frames were mostly skipped goes on for up to 20 s of face time
    (``progress.PASSIVE_SPARSE_MAX_S``): the default timeout leaves room for that."""
    seen: list[dict[str, Any]] = []
    source = itertools.cycle(frames) if isinstance(frames, list) else frames
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    next_send = loop.time()
    while loop.time() < deadline:
        if loop.time() >= next_send:
            next_send += gap  # paced by the clock, like a camera
            frame = next(source, None)
            if frame is not None:
                await communicator.send_to(bytes_data=frame)
        # receive_nothing() leaves the app running; a timed-out receive would cancel it.
        wait = max(next_send - loop.time(), 0.005)
        while not await communicator.receive_nothing(timeout=wait, interval=0.005):
            message = await communicator.receive_json_from()
            seen.append(message)
            if on_message is not None:
                on_message(message)
            if message["type"] == kind:
                return seen
            wait = max(next_send - loop.time(), 0.005)
    raise AssertionError(f"no {kind} message within {timeout}s: {seen[-5:]}")
