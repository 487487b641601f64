"""A socket's database calls give their connections back, under channels' test communicator as under daphne."""

from __future__ import annotations

import gc
import threading

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db.backends.base.base import BaseDatabaseWrapper

from config.asgi import application

from .conftest import make_session

pytestmark = [pytest.mark.django_db(transaction=True)]
SITE = "https://shop.example"


def _open_off_the_main_thread() -> dict[int, str]:
    """The database connections open on threads other than the main one: the id of each one's wrapper, and its
    thread's name."""
    gc.collect()  # wrappers of threads that ended
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    main = threading.main_thread().ident
    return {
        id(wrapper): names.get(wrapper._thread_ident, "ended")
        for wrapper in gc.get_objects()
        if issubclass(type(wrapper), BaseDatabaseWrapper)  # not isinstance: a dead weak proxy raises
        and wrapper._thread_ident != main
        and wrapper.connection is not None
        and not getattr(wrapper.connection, "closed", False)
    }


@database_sync_to_async
def _session_with_origin(account):
    account.allowed_redirect_origins = [SITE]
    account.save(update_fields=["allowed_redirect_origins"])
    return make_session(account)


async def test_a_socket_conversation_leaves_no_connection_open_off_the_main_thread(integrator):
    session = await _session_with_origin(integrator.account)
    before = _open_off_the_main_thread()  # other tests' threads, which this one does not judge
    socket = _socket(session.id, SITE)
    connected, _ = await socket.connect(timeout=10)  # the origin check and the session read on connect
    assert connected
    await socket.send_json_to({"type": "ping"})
    await socket.receive_json_from(timeout=10)
    await socket.disconnect()
    # Refused on its origin, after a read of the database made while the test waited for the answer.
    refused = _socket(session.id, "https://evil.example")
    assert not (await refused.connect(timeout=10))[0]
    left = {wrapper: thread for wrapper, thread in _open_off_the_main_thread().items() if wrapper not in before}
    assert list(left.values()) == []


def _socket(session_id, origin: str) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, f"/ws/v1/sessions/{session_id}/", headers=[(b"origin", origin.encode())])
