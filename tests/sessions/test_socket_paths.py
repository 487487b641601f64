"""Socket handshakes that are not a session's capture: malformed ids, other paths, a second socket that only
reads a finished session's result. Each is refused or closed as docs/websocket.md says, never a 500."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async as sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from apps.sessions.models import Session
from apps.sessions.protocol import CloseCode
from apps.sessions.tokens import session_token_issue
from config.asgi import application

from .conftest import make_session
from .socket_helpers import ORIGIN, closed_with, open_socket, receive_until

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("path", ["/ws/v1/sessions/{id}/", "/api/v1/session/{id}/ws"])
@pytest.mark.parametrize("session_id", ["-" * 36, "a" * 36])
async def test_a_malformed_session_id_from_a_foreign_origin_is_refused_before_the_handshake(path, session_id):
    socket = WebsocketCommunicator(
        application, path.format(id=session_id), headers=[(b"origin", b"https://evil.example")]
    )
    connected, _ = await socket.connect(timeout=5)  # it raised ValidationError: HTTP 500 through daphne
    assert not connected


@pytest.mark.parametrize("path", ["/", "/nope/", "/v1/healthz"])
async def test_a_socket_path_outside_ws_and_api_closes_with_4404(path):
    socket = WebsocketCommunicator(application, path, headers=[ORIGIN])
    connected, _ = await socket.connect(timeout=5)  # it raised "No route found": HTTP 500 through daphne
    assert connected
    _, code = await closed_with(socket)
    assert code == CloseCode.UNKNOWN_SESSION


async def test_a_socket_refused_as_finished_does_not_supersede_the_watching_one(integrator):
    session = await sync_to_async(make_session)(integrator.account)
    await sync_to_async(Session.objects.filter(id=session.id).update)(
        status=Session.Status.COMPLETED, verification_result="Pass", completed_at=timezone.now()
    )
    watcher = await open_socket(session.id)
    await watcher.send_json_to({"type": "auth", "token": session_token_issue(session_id=session.id), "watch": True})
    await receive_until(watcher, "watch", timeout=10)
    reader = await open_socket(session.id)  # reads the result, then closes 4410: it takes nothing over
    await reader.send_json_to({"type": "auth", "token": session_token_issue(session_id=session.id)})
    _, code = await closed_with(reader)
    assert code == CloseCode.SESSION_FINISHED
    assert await watcher.receive_nothing(timeout=1)
    await watcher.disconnect()
