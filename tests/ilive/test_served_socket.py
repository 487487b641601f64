"""A scripted iLive client (002) against the real web server: ``python -m config.serve`` (daphne) in a subprocess.

It does what 002's integrator does, over HTTP and one WebSocket only: creates a managed session with
``Bearer <API_KEY>``, opens the session's socket with its token in the URL and sends binary JPEG frames from
the first message (no auth message), answers each challenge with synthetic frames of a live face
(tests/face_engine/synthetic.py), then reads the result and the ICAO photo with the token.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from io import BytesIO
from typing import Any

import pytest
import websockets
from PIL import Image

from apps.sessions.protocol import CloseCode
from tests.served import Service, embedded_service
from tests.sessions.synthetic_clips import ScriptedUser, clips

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    clips()  # rendered before the server competes for the CPU
    with embedded_service(tmp_path_factory.mktemp("ilive"), "iLive") as service:
        yield service


def _http(served: Service, path: str, body: dict[str, Any] | None = None) -> tuple[int, str, bytes]:
    headers = {"Authorization": f"Bearer {served.key}", "Content-Type": "application/json"}
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{served.base}{path}", data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


def _managed(served: Service, mode: str) -> dict[str, Any]:
    status, _, body = _http(served, "/api/v1/managed-session", {"mode": mode})
    assert status == 200, body
    return json.loads(body)


async def _stream(ws: websockets.ClientConnection, user: ScriptedUser, seconds: float) -> list[dict[str, Any]]:
    """Frames from the first message, each challenge answered, until the result.

    The client keeps pace with the server as a camera page would on a slow link: at most 10 frames a
    second, and the next one only once the last was answered, so no frame is dropped as "in flight" on a
    machine that analyses slower than the camera runs (a frame with no answer in 2 s was skipped).
    """
    messages: list[dict[str, Any]] = []
    sent = answered = 0
    async with asyncio.timeout(seconds):
        while True:
            if answered >= sent:
                await ws.send(next(user))
                sent += 1
                pace = asyncio.ensure_future(asyncio.sleep(0.105))
            try:
                message = json.loads(await asyncio.wait_for(ws.recv(), 2))
            except TimeoutError:
                answered = sent  # a frame the server skipped (it waited too long for a worker) gets no answer
                continue
            messages.append(message)
            user.on_message(message)
            if message["type"] == "result":
                return messages
            if message["type"] == "feedback" and "frame" in message:
                answered = max(answered, int(message["frame"]))
                await pace
            # A frame that arrives once the capture is complete is ignored, which is all this says.
            assert message["type"] != "error" or message["code"] == "notCapturing", message


async def test_a_scripted_ilive_client_completes_an_active_session(served):
    created = _managed(served, "active")
    assert created["ws_url"].startswith(served.base.replace("http://", "ws://"))
    async with websockets.connect(created["ws_url"], origin=served.base, max_size=None) as ws:
        user = ScriptedUser()
        messages = await _stream(ws, user, seconds=120)
    state = messages[0]
    assert state["type"] == "state" and state["status"] == "in_progress" and state["mode"] == "active"
    assert 3 <= state["challengesTotal"] <= 6 and len(user.challenges) == state["challengesTotal"]
    result = messages[-1]
    assert result["type"] == "result" and result["verdict"] == "pass", result
    token, sid = created["token"], created["session_id"]
    status, _, body = _http(served, f"/api/v1/session/{sid}/result?token={token}")
    read = json.loads(body)
    assert status == 200 and read["verdict"] == "pass" and read["confidence"] >= 0.7 and read["status"] == "completed"
    assert set(read["challenges"]) == set(user.challenges) and all(read["challenges"].values())
    status, content_type, photo = _http(served, f"/api/v1/session/{sid}/photo?token={token}")
    assert status == 200 and content_type == "image/jpeg"
    assert Image.open(BytesIO(photo)).size == (480, 600)


async def test_a_wrong_token_closes_4401_and_a_bad_path_4404(served):
    created = _managed(served, "passive")
    socket_base = served.base.replace("http://", "ws://")
    wrong = f"{socket_base}/api/v1/session/{created['session_id']}/ws?token=not-the-token"
    async with websockets.connect(wrong, origin=served.base) as ws:
        error = json.loads(await asyncio.wait_for(ws.recv(), 10))
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 10)
    assert error == {"type": "error", "code": "invalidToken", "message": error["message"]}
    assert ws.close_code == CloseCode.UNAUTHENTICATED
    async with websockets.connect(f"{socket_base}/api/v1/session/nope/ws?token=x", origin=served.base) as ws:
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["code"] == "unknownSession"
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 10)
    assert ws.close_code == CloseCode.UNKNOWN_SESSION


async def test_a_non_jpeg_first_message_is_refused_without_closing(served):
    created = _managed(served, "passive")
    async with websockets.connect(created["ws_url"], origin=served.base) as ws:
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "state"
        await ws.send(b"GIF89a not a jpeg")
        error = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert error["code"] == "badFrame"
        await ws.send(json.dumps({"type": "ping"}))
        kinds = []
        while not kinds or kinds[-1] != "pong":
            kinds.append(json.loads(await asyncio.wait_for(ws.recv(), 10))["type"])
        assert set(kinds) <= {"pong", "feedback", "progress", "challenge"}, kinds
