"""Continuous checks (the SDK's headless mode) over the real socket, and who may open a session's socket.

A live person passes a passive session on a socket that asked to watch; then samples of the same person, of
someone else, and of two people are compared with the face the session kept, by the real engine.
"""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest
from channels.db import database_sync_to_async as sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections
from django.utils import timezone

from apps.sessions.models import Session
from apps.sessions.protocol import CloseCode
from apps.sessions.tokens import session_token_issue
from apps.webhooks.models import WebhookEvent
from config.asgi import application

from .conftest import make_session
from .socket_helpers import app_ended, closed_with, receive_until, stream_until
from .synthetic_clips import ScriptedUser

pytestmark = [pytest.mark.django_db(transaction=True)]
SITE = "https://shop.example"


@functools.cache
def _samples() -> dict[str, bytes]:
    from tests.face_engine import synthetic

    same = synthetic.passive_sequence("astronaut", 0.3, fps=10, seed=7)
    other = synthetic.passive_sequence("t1_3", 0.3, fps=10, seed=8)
    pair = np.ascontiguousarray(np.hstack([same[1][:, 160:480], other[1][:, 160:480]]))
    return {
        "same": synthetic.encode_jpeg(same[0]),
        "same_moved": synthetic.encode_jpeg(same[2]),
        "other": synthetic.encode_jpeg(other[0]),
        "pair": synthetic.encode_jpeg(pair),
    }


async def _connect(session_id, origin: str) -> tuple[WebsocketCommunicator, bool]:
    socket = WebsocketCommunicator(
        application, f"/ws/v1/sessions/{session_id}/", headers=[(b"origin", origin.encode())]
    )
    connected, _ = await socket.connect(timeout=10)  # a loaded machine: the origin check reads the database
    return socket, connected


@sync_to_async
def _account_session(account, origins: list[str], **body) -> Session:
    account.allowed_redirect_origins = origins
    account.save(update_fields=["allowed_redirect_origins"])
    return make_session(account, **body)


async def test_an_accounts_allowed_origin_opens_its_own_sessions_socket_and_no_other(integrator, other_integrator):
    own = await _account_session(integrator.account, [SITE])
    foreign = await _account_session(other_integrator.account, ["https://other.example"])
    socket, connected = await _connect(own.id, SITE)
    assert connected
    await socket.disconnect()
    for session_id, origin in (
        (foreign.id, SITE),  # another account's session
        (own.id, "https://evil.example"),  # an origin nobody allowed
        (own.id, "https://shop.example:8443"),  # another port is another origin
        (own.id, "null"),  # a sandboxed frame
    ):
        socket, connected = await _connect(session_id, origin)
        assert not connected, (session_id, origin)
        assert await app_ended(socket)  # the refusal ends there: nothing is left listening on the channel layer
    socket = WebsocketCommunicator(application, f"/ws/v1/sessions/{own.id}/")  # no Origin at all
    assert not (await socket.connect(timeout=10))[0]
    assert await app_ended(socket)


@pytest.mark.slow
@pytest.mark.usefixtures("real_engine")
async def test_a_watching_socket_checks_each_sample_against_the_enrolled_face_and_records_changes(integrator):
    samples = await sync_to_async(_samples)()
    hook = {"eventCallbackUrl": "https://hooks.example.com/liveproof"}
    session = await _account_session(integrator.account, [SITE], webhookConfig=hook)
    socket, connected = await _connect(session.id, SITE)
    assert connected
    await socket.send_json_to({"type": "auth", "token": session_token_issue(session_id=session.id), "watch": True})
    for _attempt in range(3):  # a loaded machine drops frames, and the engine may be unsure: try again, as the SDK
        user = ScriptedUser(passive_blink=True)
        seen = await stream_until(socket, user, kind="result", gap=0.105, timeout=40, on_message=user.on_message)
        if seen[-1]["verdict"] != "retry":
            break
        await socket.send_json_to({"type": "retry"})
    assert seen[-1]["verdict"] == "pass", seen[-5:]
    watch = (await receive_until(socket, "watch", timeout=10))[-1]
    assert watch["minIntervalMs"] == 500

    async def check(name: str) -> dict:
        await socket.send_to(bytes_data=samples[name])
        answer = (await receive_until(socket, "check", timeout=20))[-1]
        await socket.receive_nothing(timeout=0.45)  # the next sample after the minimum interval
        return answer

    same = await check("same")
    assert (same["samePerson"], same["faceCount"], same["alert"]) == (True, 1, None)
    assert same["similarity"] >= 0.6 and same["live"] is None  # nothing to compare the first sample with
    moved = await check("same_moved")
    assert moved["samePerson"] is True and moved["live"] is True
    frozen = await check("same_moved")
    assert frozen["samePerson"] is True and frozen["live"] is False  # the very same picture again
    other = await check("other")
    assert (other["samePerson"], other["faceCount"], other["alert"]) == (False, 1, "faceChanged")
    assert other["similarity"] < same["similarity"]
    again = await check("other")
    assert again["alert"] == "faceChanged"  # still the stranger: the same alert, not recorded twice
    pair = await check("pair")
    assert (pair["samePerson"], pair["faceCount"], pair["alert"]) == (True, 2, "multipleFaces")
    await socket.disconnect()

    stored = await sync_to_async(Session.objects.get)(id=session.id)
    assert [c["reason"] for c in stored.checks] == ["faceChanged", "multipleFaces"]
    assert stored.checks[0]["faceCount"] == 1 and stored.checks[1]["faceCount"] == 2
    events = await sync_to_async(list)(
        WebhookEvent.objects.filter(session_id=session.id, type="verification.session.check")
    )
    assert len(events) == 2
    bodies = sorted((json.loads(e.body) for e in events), key=lambda b: b["data"]["check"]["at"])
    assert [b["data"]["check"]["reason"] for b in bodies] == ["faceChanged", "multipleFaces"]
    assert all("event" not in b and b["verificationSessionId"] == str(session.id) for b in bodies)  # no completion
    assert bodies[1]["data"]["checks"] == stored.checks  # the session result as it stood, alerts included


async def test_a_socket_that_does_not_watch_is_closed_once_the_session_is_finished(integrator):
    session = await _account_session(integrator.account, [SITE])
    await sync_to_async(Session.objects.filter(id=session.id).update)(
        status="completed", verification_result="Fail", verdict="fail"
    )
    socket, connected = await _connect(session.id, SITE)
    assert connected
    await socket.send_json_to({"type": "auth", "token": session_token_issue(session_id=session.id), "watch": True})
    messages, code = await closed_with(socket)
    assert code == CloseCode.SESSION_FINISHED  # a failed session has no face to watch
    assert "watch" not in [m["type"] for m in messages]


@pytest.mark.parametrize("watch", [True, False])
async def test_a_socket_whose_session_ends_unpassed_gets_the_result_then_close_4410(integrator, watch):
    """docs/websocket.md: a failed, expired or cancelled session is closed with 4410, a watching socket too
    (it has no face to watch); before, the socket stayed open after the result, waiting for nothing."""
    session = await _account_session(integrator.account, [SITE])
    socket, connected = await _connect(session.id, SITE)
    assert connected
    await socket.send_json_to({"type": "auth", "token": session_token_issue(session_id=session.id), "watch": watch})
    await receive_until(socket, "state", timeout=10)
    await socket.send_json_to({"type": "cancel"})
    messages, code = await closed_with(socket, timeout=10)
    assert (messages[-1]["type"], messages[-1]["reasons"]) == ("result", ["cancelled"])
    assert code == CloseCode.SESSION_FINISHED
    assert "watch" not in [m["type"] for m in messages]


async def test_an_error_answer_to_a_sample_frees_the_slot_for_the_next_one(integrator):
    """A sample answered with an error (here noEnrolledFace: the session kept no face) is answered: the next
    sample after the minimum interval is checked too, not dropped for 5 s as if the answer were still due."""
    samples = await sync_to_async(_samples)()
    session = await _account_session(integrator.account, [SITE])
    await sync_to_async(Session.objects.filter(id=session.id).update)(
        status=Session.Status.COMPLETED, verification_result="Pass", completed_at=timezone.now()
    )
    socket, connected = await _connect(session.id, SITE)
    assert connected
    await socket.send_json_to({"type": "auth", "token": session_token_issue(session_id=session.id), "watch": True})
    await receive_until(socket, "watch", timeout=10)
    for _ in range(2):
        await socket.send_to(bytes_data=samples["same"])
        answer = (await receive_until(socket, "error", timeout=20))[-1]
        assert answer["code"] == "noEnrolledFace"
        await socket.receive_nothing(timeout=0.6)  # past the minimum interval (500 ms)
    await socket.disconnect()


def test_two_samples_checked_at_once_record_one_change_of_person(integrator, real_engine, monkeypatch):
    """Two frames workers check two samples of a stranger at the same moment: both read "no alert" and both
    recorded it (two entries in checks, two webhook events); the docs promise one per change."""
    import threading
    import time

    from apps.faces.services import embedding_model_version, session_face_record
    from apps.sessions.services import checks

    samples = _samples()
    session = make_session(integrator.account, webhookConfig={"eventCallbackUrl": "https://hooks.example.com/lp"})
    Session.objects.filter(id=session.id).update(
        status=Session.Status.COMPLETED, verification_result="Pass", completed_at=timezone.now()
    )
    enrolled = real_engine.face_from_image(samples["same"])
    session_face_record(
        account=integrator.account,
        session_id=session.id,
        embedding=enrolled.embedding,
        engine=enrolled.engine,
        model_version=embedding_model_version(dict(enrolled.versions)),
    )
    record = checks._alert_record

    def slow_record(**kwargs):  # recording takes a while (a transaction, a webhook row): the other sample is due
        record(**kwargs)
        time.sleep(0.5)

    monkeypatch.setattr(checks, "_alert_record", slow_record)
    answers = []

    def sample(number: int) -> None:
        try:
            answers.append(checks.session_check(session_id=str(session.id), jpeg=samples["other"], frame=number))
        finally:
            connections.close_all()  # as Celery does after a task: this thread's connection back to the pool

    workers = [threading.Thread(target=sample, args=(n,)) for n in (1, 2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert [a["alert"] for a in answers] == ["faceChanged", "faceChanged"], answers
    session.refresh_from_db()
    assert [c["reason"] for c in session.checks] == ["faceChanged"]
    assert WebhookEvent.objects.filter(session_id=session.id, type="verification.session.check").count() == 1
