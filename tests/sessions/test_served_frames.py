"""The 1.5 MB frame limit through the real web server: ``python -m config.serve`` (daphne) in a subprocess.

Daphne's own default cap (1 MiB) dropped a legal 1.1 MB frame without a close
frame, and a frame over the limit never got ``frameTooLarge``/1009. Also through
daphne: a socket from an origin nobody allowed gets HTTP 403 at the handshake.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Iterator

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from apps.sessions.protocol import CloseCode
from tests.served import Service, embedded_service

from .synthetic_clips import clips

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The service as the Procfile starts it, on the embedded default (SQLite file, in-process analysis)."""
    with embedded_service(tmp_path_factory.mktemp("served"), "Frames") as service:
        yield service


def _session(served: Service) -> dict[str, str]:
    body = {"verifierConfigs": {"liveness": {"type": "Verification", "challengeType": "Passive"}}}
    request = urllib.request.Request(
        f"{served.base}/v1/verification/create-session",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"ApiKey {served.key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _padded_jpeg(size: int) -> bytes:
    """A real camera frame padded after its end-of-image marker to ``size`` bytes (a big, high-quality frame)."""
    frame = clips()["hold"][0]
    return frame + b"\0" * (size - len(frame))


async def _capture_socket(served: Service) -> websockets.ClientConnection:
    session = _session(served)
    url = served.base.replace("http://", "ws://") + f"/ws/v1/sessions/{session['verificationSessionId']}/"
    ws = await websockets.connect(url, origin=served.base, max_size=None)
    await ws.send(json.dumps({"type": "auth", "token": session["sessionToken"]}))
    state = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert state["type"] == "state" and state["status"] == "in_progress", state
    return ws


async def _next_answer(ws: websockets.ClientConnection) -> dict:
    """The first feedback or error (progress messages may come first)."""
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 30))
        if message["type"] in ("feedback", "error"):
            return message


async def test_a_1_4_mb_frame_is_analysed_and_the_socket_stays_open(served):
    ws = await _capture_socket(served)
    await ws.send(_padded_jpeg(1_400_000))
    answer = await _next_answer(ws)
    assert answer["type"] == "feedback" or answer["code"] == "badFrame", answer
    await ws.send(json.dumps({"type": "ping"}))
    while (message := json.loads(await asyncio.wait_for(ws.recv(), 10)))["type"] != "pong":
        assert message["type"] in ("feedback", "progress", "challenge"), message
    await ws.close()


async def test_a_1_6_mb_frame_gets_frame_too_large_and_close_1009(served):
    ws = await _capture_socket(served)
    await ws.send(_padded_jpeg(1_600_000))
    error = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert error["type"] == "error" and error["code"] == "frameTooLarge", error
    with pytest.raises(websockets.ConnectionClosed):
        await asyncio.wait_for(ws.recv(), 10)
    assert ws.close_code == CloseCode.TOO_BIG


async def test_a_message_over_the_servers_cap_gets_close_1009_not_a_dropped_connection(served):
    from django.conf import settings

    ws = await _capture_socket(served)
    with pytest.raises(websockets.ConnectionClosed):
        # The server may close while the message is still going out: then the send itself sees the close.
        await ws.send(_padded_jpeg(settings.WEBSOCKET_MAX_MESSAGE_BYTES + 1))
        while True:
            await asyncio.wait_for(ws.recv(), 10)
    assert ws.close_code == CloseCode.TOO_BIG


async def test_a_socket_from_an_origin_nobody_allowed_gets_403_at_the_handshake(served: Service) -> None:
    session = _session(served)
    url = served.base.replace("http://", "ws://") + f"/ws/v1/sessions/{session['verificationSessionId']}/"
    for _ in range(3):  # refused again and again, and the server goes on serving
        with pytest.raises(InvalidStatus) as refused:
            await websockets.connect(url, origin="https://evil.example", open_timeout=10)
        assert refused.value.response.status_code == 403
    ws = await _capture_socket(served)  # the page's own origin still opens a socket
    await ws.close()
