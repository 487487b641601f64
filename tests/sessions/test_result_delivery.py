"""The result reaches the capture socket even when the channel layer loses it, and only once.

channels-redis drops a group message when the receiving channel is full, and a publish can time out: the
"analysing" state and the result go through the layer, the verdict is stored in the database. These tests
lose or delay those messages on their way out of the process (the publish to Redis) and keep the rest real:
the socket, the engine, the verdict, PostgreSQL and the Redis layer.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from channels.db import database_sync_to_async as sync_to_async
from django.utils import timezone

from apps.sessions import notifier
from apps.sessions.models import Session
from apps.sessions.protocol import CloseCode
from apps.sessions.tokens import session_token_issue

from .conftest import make_session
from .socket_helpers import authed_socket, closed_with, stream_until
from .synthetic_clips import ScriptedUser

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("real_engine")]


def _outcome(event: dict[str, Any]) -> bool:
    """The completed capture's news: the "analysing" state or a result."""
    message = event.get("message") or {}
    return event.get("type") == "capture.message" and message.get("type") in {"state", "result"}


def _read_from_database() -> float:
    from prometheus_client import REGISTRY

    sample = REGISTRY.get_sample_value("liveproof_results_read_from_database_total", {"message": "result"})
    return sample or 0.0


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every state and result message the verdict published (whatever then happens to it)."""
    seen: list[dict[str, Any]] = []
    send = notifier._group_send

    def recording(layer: Any, group: str, event: dict[str, Any]) -> None:
        if _outcome(event):
            seen.append(event["message"])
        send(layer, group, event)

    monkeypatch.setattr(notifier, "_group_send", recording)
    return seen


async def _capture(integrator: Any) -> tuple[Any, list[dict[str, Any]], Session]:
    session = await sync_to_async(make_session)(integrator.account)
    socket, _ = await authed_socket(session.id, session_token_issue(session_id=session.id))
    user = ScriptedUser(passive_blink=True)
    messages = await stream_until(socket, user, gap=0.105, timeout=30, on_message=user.on_message)
    return socket, messages, session


@pytest.mark.parametrize("completing_frame_lost", [False, True], ids=["outcome-lost", "completing-frame-lost-too"])
async def test_the_result_reaches_the_socket_from_the_database_when_the_layer_lost_it(
    integrator, settings, monkeypatch, completing_frame_lost
):
    settings.CAPTURE_RESULT_CHECK_SECONDS = 0.5
    send = notifier._group_send

    def losing(layer: Any, group: str, event: dict[str, Any]) -> None:
        # The state and the result are lost; with completing_frame_lost, the completing frame's feedback too, so
        # the socket learns that the capture is complete only from the frames skipped after it.
        completing = event.get("type") == "capture.frame" and event.get("complete")
        if not _outcome(event) and not (completing_frame_lost and completing):
            send(layer, group, event)

    monkeypatch.setattr(notifier, "_group_send", losing)
    read_before = _read_from_database()
    socket, messages, session = await _capture(integrator)
    result = messages[-1]
    assert result["type"] == "result" and result["verdict"] == "pass", messages[-5:]
    assert all(m["status"] == "analysing" for m in messages if m["type"] == "state")  # as the layer would say
    later, code = await closed_with(socket)
    assert code == CloseCode.SESSION_FINISHED and not [m for m in later if m["type"] == "result"]
    stored = await sync_to_async(Session.objects.get)(id=session.id)
    assert stored.status == "completed" and result["verificationResult"] == stored.verification_result == "Pass"
    assert _read_from_database() == read_before + 1  # operators see it: liveproof_results_read_from_database_total


async def test_a_result_both_the_database_and_the_layer_bring_is_sent_once(
    integrator, settings, published, monkeypatch
):
    settings.CAPTURE_RESULT_CHECK_SECONDS = 0.1
    send = notifier._group_send
    # The layer's state and result arrive half a second late, after the socket read them from the database.
    monkeypatch.setattr(
        notifier,
        "_group_send",
        lambda layer, group, event: (
            threading.Timer(0.5, send, (layer, group, event)).start() if _outcome(event) else send(layer, group, event)
        ),
    )
    socket, messages, _ = await _capture(integrator)
    assert messages[-1]["verdict"] == "pass"
    later, code = await closed_with(socket)
    assert code == CloseCode.SESSION_FINISHED
    sent = [m["type"] for m in messages + later]
    assert sent.count("result") == 1
    assert "state" not in sent[sent.index("result") :]  # the late "analysing" does not follow the result
    assert [m["type"] for m in published].count("result") == 1  # the layer did bring it, and it was not resent


async def test_a_socket_that_connects_while_the_verdict_is_made_gets_it_from_the_database(integrator, settings):
    """The verdict of another process (the recovery sweep's, say) whose message never reaches this socket."""
    settings.CAPTURE_RESULT_CHECK_SECONDS = 0.2
    session = await sync_to_async(make_session)(integrator.account)
    first, state = await authed_socket(session.id, session_token_issue(session_id=session.id))
    await first.disconnect()
    sessions = Session.objects.filter(id=session.id)
    await sync_to_async(sessions.update)(status=Session.Status.ANALYSING)
    socket, again = await authed_socket(session.id, state["resumeToken"])
    assert again["status"] == "analysing"
    assert await socket.receive_nothing(timeout=0.5)
    await sync_to_async(sessions.update)(
        status=Session.Status.COMPLETED, completed_at=timezone.now(), verdict="pass", verification_result="Pass",
        liveness_result="Pass",
    )  # fmt: skip
    messages, code = await closed_with(socket, timeout=5)
    assert [m["type"] for m in messages] == ["result"] and messages[0]["verificationResult"] == "Pass"
    assert code == CloseCode.SESSION_FINISHED


async def test_a_failed_database_read_is_tried_again(integrator, settings, monkeypatch, caplog):
    from django.db import OperationalError

    from apps.sessions import result_watch

    settings.CAPTURE_RESULT_CHECK_SECONDS = 0.3
    send, read = notifier._group_send, result_watch._stored
    monkeypatch.setattr(notifier, "_group_send", lambda layer, g, e: None if _outcome(e) else send(layer, g, e))
    reads: list[str] = []

    def flaky(session_id: str) -> Any:
        reads.append(session_id)
        if len(reads) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return read(session_id)

    monkeypatch.setattr(result_watch, "_stored", flaky)
    _, messages, _ = await _capture(integrator)
    assert messages[-1]["type"] == "result" and messages[-1]["verdict"] == "pass"
    assert len(reads) >= 2 and "Could not read session" in caplog.text
