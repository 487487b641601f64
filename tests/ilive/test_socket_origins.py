"""Who may open an iLive frame socket (``/api/v1/session/<id>/ws``) on the real ASGI app.

As for the capture socket (tests/sessions/test_checks.py), an integrator's own page may open its session's
socket when its origin is on the session's account's allowed origins; any other origin, and a socket with
no Origin, is refused before the handshake (HTTP 403).
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.utils import timezone

from apps.ilive.services import ilive_session_create
from apps.ilive.tokens import ilive_token_issue
from apps.sessions.models import Session
from apps.sessions.services import session_cancel
from apps.signing.redirects import allowed_redirect_origins_set
from config.asgi import application
from tests.sessions.socket_helpers import app_ended

pytestmark = [pytest.mark.django_db(transaction=True)]
SITE = "https://yourapp.com"


@database_sync_to_async
def _session(account, origins: list[str]) -> Session:
    allowed_redirect_origins_set(account=account, origins=origins)
    return ilive_session_create(account=account, mode="passive")


async def _connect(session: Session, origin: str | None) -> tuple[WebsocketCommunicator, bool]:
    path = f"/api/v1/session/{session.id}/ws?token={ilive_token_issue(session_id=session.id)}"
    headers = [(b"origin", origin.encode())] if origin is not None else []
    socket = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await socket.connect(timeout=10)  # a loaded machine: the origin check reads the database
    return socket, connected


async def test_the_accounts_own_origin_opens_its_ilive_socket(integrator):
    session = await _session(integrator.account, [SITE])
    socket, connected = await _connect(session, SITE)
    assert connected
    state = await socket.receive_json_from(timeout=10)
    assert state["type"] == "state" and state["status"] == "in_progress" and state["mode"] == "passive", state
    await socket.disconnect()


async def test_other_origins_and_no_origin_are_refused_before_the_handshake(integrator, other_integrator):
    own = await _session(integrator.account, [SITE])
    foreign = await _session(other_integrator.account, ["https://other.example"])
    for session, origin in (
        (foreign, SITE),  # another account's session
        (own, "https://evil.example"),  # an origin nobody allowed
        (own, "https://yourapp.com:8443"),  # another port is another origin
        (own, "http://yourapp.com"),  # another scheme too
        (own, "null"),  # a sandboxed frame
        (own, None),  # no Origin at all
    ):
        socket, connected = await _connect(session, origin)
        assert not connected, (session.id, origin)
        assert await app_ended(socket)  # the refusal ends there: nothing is left listening on the channel layer


async def test_past_the_result_retention_the_token_opens_no_socket(integrator):
    """docs/ilive.md: the token reads the session "until the result retention, 7 days"; the socket too."""
    session = await _session(integrator.account, [SITE])
    await database_sync_to_async(session_cancel)(session_id=session.id)
    old = timezone.now() - timedelta(days=int(settings.SESSION_RESULT_RETENTION_DAYS), minutes=1)
    await database_sync_to_async(Session.objects.filter(id=session.id).update)(created_at=old)
    socket, connected = await _connect(session, SITE)
    assert connected  # accepted, then refused with the protocol's own error and close code
    received = []
    while (out := await socket.receive_output(timeout=10))["type"] != "websocket.close":
        received.append(json.loads(out["text"]))
    assert received == [{"type": "error", "code": "invalidToken", "message": received[0]["message"]}]
    assert out["code"] == 4401
