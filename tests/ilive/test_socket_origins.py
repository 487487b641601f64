"""Who may open an iLive frame socket (``/api/v1/session/<id>/ws``) on the real ASGI app.

As for the capture socket (tests/sessions/test_checks.py), an integrator's own page may open its session's
socket when its origin is on the session's account's allowed origins; any other origin, and a socket with
no Origin, is refused before the handshake (HTTP 403).
"""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from apps.ilive.services import ilive_session_create
from apps.ilive.tokens import ilive_token_issue
from apps.sessions.models import Session
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
