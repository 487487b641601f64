"""Bad input over the capture socket: each gets its documented error and leaves the session consistent."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import time_machine
from channels.db import database_sync_to_async as sync_to_async  # closes its DB connection after use
from django.utils import timezone

from apps.sessions.models import Session
from apps.sessions.protocol import CloseCode
from apps.sessions.tokens import session_token_issue

from .conftest import make_session
from .socket_helpers import authed_socket, closed_with, open_socket, receive_until, stream_until
from .synthetic_clips import ScriptedUser, clips

# Frames are synthetic webcam frames of a real face, analysed by the real engine (eager Celery, in process).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("real_engine")]
LIVE = clips()["hold"][0]


async def _capture(socket, user: ScriptedUser | None = None, **kwargs) -> list[dict]:
    """A live person streaming until ``kind`` (the result by default): holding still and blinking, or answering
    each challenge as it is announced."""
    user = user or ScriptedUser(passive_blink=True)
    return await stream_until(socket, user, gap=0.105, timeout=30, on_message=user.on_message, **kwargs)


@pytest.fixture
def analysed(real_engine, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Timestamps of the frames that reached the engine (the real engine still analyses each one)."""
    seen: list[float] = []
    analyze = real_engine.analyze_frame

    def counting(state, frame, timestamp):
        seen.append(timestamp)
        return analyze(state, frame, timestamp)

    monkeypatch.setattr(real_engine, "analyze_frame", counting)
    return seen


async def _session(integrator, **kwargs):
    return await sync_to_async(make_session)(integrator.account, **kwargs)


async def _status(session_id) -> str:
    return (await sync_to_async(Session.objects.get)(id=session_id)).status


@pytest.fixture
def memory_layer(settings):
    """The in-process channel layer: these refusals never reach the layer, and cancelling a consumer that
    is blocked in channels-redis' receive at teardown has hung the event loop past the test timeout
    (the Redis layer's own behaviour is tested in test_redis_layer.py)."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.mark.usefixtures("memory_layer")
async def test_a_frame_before_auth_is_refused_with_4401(integrator):
    session = await _session(integrator)
    socket = await open_socket(session.id)
    await socket.send_to(bytes_data=LIVE)
    messages, code = await closed_with(socket)
    assert code == CloseCode.UNAUTHENTICATED and messages[0]["code"] == "notAuthenticated"
    assert await _status(session.id) == "created"


@pytest.mark.usefixtures("memory_layer")
@pytest.mark.parametrize(
    "text",
    [
        "not json at all",
        "[" * 8000,  # nested deeper than Python's parser goes
        '{"type": "auth", "token": "\\ud800"}',  # a lone surrogate: the token's decoder raised, the socket hung
    ],
)
async def test_a_control_message_before_auth_is_refused_with_4401(integrator, text):
    session = await _session(integrator)
    socket = await open_socket(session.id)
    await socket.send_to(text_data=text)
    messages, code = await closed_with(socket)
    assert code == CloseCode.UNAUTHENTICATED and messages[0]["type"] == "error"


@pytest.mark.usefixtures("memory_layer")
@pytest.mark.parametrize("token", ["", "abc.def.ghi", 42])
async def test_a_wrong_token_is_refused_with_4401(integrator, token):
    session = await _session(integrator)
    socket = await open_socket(session.id)
    await socket.send_json_to({"type": "auth", "token": token})
    messages, code = await closed_with(socket)
    assert code == CloseCode.UNAUTHENTICATED and messages[0]["code"] == "invalidToken"
    assert await _status(session.id) == "created"


@pytest.mark.usefixtures("memory_layer")  # refused before it joins a group; its Redis receive held up teardown
async def test_an_expired_token_is_refused_with_4401(integrator):
    session = await _session(integrator)
    with time_machine.travel(timezone.now() - timedelta(minutes=11)):
        token = session_token_issue(session_id=session.id)
    socket = await open_socket(session.id)
    await socket.send_json_to({"type": "auth", "token": token})
    messages, code = await closed_with(socket)
    assert code == CloseCode.UNAUTHENTICATED and messages[0]["code"] == "tokenExpired"
    stored = await sync_to_async(Session.objects.get)(id=session.id)
    assert stored.status == "created" and stored.attempt == session.attempt  # nothing started, nothing lost


async def test_a_token_opens_the_socket_only_once(integrator):
    session = await _session(integrator)
    token = session_token_issue(session_id=session.id)
    first, state = await authed_socket(session.id, token)
    assert state["status"] == "in_progress"
    second = await open_socket(session.id)
    await second.send_json_to({"type": "auth", "token": token})
    messages, code = await closed_with(second)
    assert code == CloseCode.TOKEN_USED and messages[0]["code"] == "tokenUsed"
    assert await first.receive_nothing()  # the first socket is untouched
    await first.disconnect()


@pytest.mark.usefixtures("memory_layer")  # refused before it joins a group; its Redis receive held up teardown
async def test_a_token_cannot_open_another_session(integrator):
    mine = await _session(integrator)
    other = await _session(integrator)
    socket = await open_socket(other.id)
    await socket.send_json_to({"type": "auth", "token": session_token_issue(session_id=mine.id)})
    messages, code = await closed_with(socket)
    assert code == CloseCode.WRONG_SESSION and messages[0]["code"] == "wrongSession"
    assert await _status(other.id) == "created"


async def test_an_unknown_session_is_refused_with_4404(integrator):
    import uuid

    session_id = uuid.uuid4()
    socket = await open_socket(session_id)
    await socket.send_json_to({"type": "auth", "token": session_token_issue(session_id=session_id)})
    _, code = await closed_with(socket)
    assert code == CloseCode.UNKNOWN_SESSION


async def test_a_foreign_origin_cannot_open_the_socket(integrator):
    from channels.testing import WebsocketCommunicator

    from config.asgi import application

    session = await _session(integrator)
    communicator = WebsocketCommunicator(
        application, f"/ws/v1/sessions/{session.id}/", headers=[(b"origin", b"https://evil.example")]
    )
    connected, _ = await communicator.connect()
    assert not connected


async def test_an_oversized_frame_closes_with_1009(integrator, settings):
    session = await _session(integrator)
    socket, _ = await authed_socket(session.id, session_token_issue(session_id=session.id))
    await socket.send_to(bytes_data=b"\xff\xd8\xff" + b"0" * settings.CAPTURE_MAX_FRAME_BYTES)
    messages, code = await closed_with(socket)
    assert code == CloseCode.TOO_BIG and messages[-1]["code"] == "frameTooLarge"
    assert await _status(session.id) == "in_progress"


@pytest.mark.slow
async def test_non_jpeg_bytes_get_an_error_and_the_capture_goes_on(integrator):
    session = await _session(integrator)
    socket, _ = await authed_socket(session.id, session_token_issue(session_id=session.id))
    await socket.send_to(bytes_data=b"\x89PNG\r\n\x1a\n not a jpeg")
    error = await socket.receive_json_from()
    assert error == {"type": "error", "code": "badFrame", "message": "Frames must be JPEG images."}
    await socket.send_to(bytes_data=b"\xff\xd8\xff garbage after a jpeg header")
    assert (await socket.receive_json_from())["code"] == "badFrame"
    messages = await _capture(socket)
    # Feedback names the client's own frame: the two bad frames count, so good ones start at frame 3.
    answered = [m["frame"] for m in messages if m["type"] == "feedback" and "frame" in m]
    assert answered and answered[0] >= 3 and answered == sorted(set(answered))
    assert messages[-1]["verdict"] == "pass"
    await socket.disconnect()


@pytest.mark.slow
async def test_the_socket_closes_4410_after_completion_and_the_result_stands(integrator):
    session = await _session(integrator)
    socket, _ = await authed_socket(session.id, session_token_issue(session_id=session.id))
    assert (await _capture(socket))[-1]["verdict"] == "pass"
    _, code = await closed_with(socket)  # no frame after the result can reach the finished session
    assert code == CloseCode.SESSION_FINISHED
    stored = await sync_to_async(Session.objects.get)(id=session.id)
    assert stored.status == "completed" and stored.verification_result == "Pass"


async def test_a_client_faster_than_the_frame_rate_is_throttled_then_closed(integrator, analysed, settings):
    session = await _session(integrator)
    socket, _ = await authed_socket(session.id, session_token_issue(session_id=session.id))
    for _ in range(5 * settings.CAPTURE_MAX_FPS + 5):
        await socket.send_to(bytes_data=LIVE)
    messages, code = await closed_with(socket)
    assert {"type": "feedback", "codes": ["slowDown"]}.items() <= next(
        m for m in messages if m["type"] == "feedback" and m["codes"] == ["slowDown"]
    ).items()
    assert code == CloseCode.FLOOD and messages[-1]["code"] == "flood"
    # Only the frames within the rate (and the in-flight limit) reached the engine.
    assert len(analysed) <= settings.CAPTURE_MAX_IN_FLIGHT
    assert await _status(session.id) == "in_progress"


@pytest.mark.slow
async def test_a_short_burst_is_throttled_without_closing(integrator):
    session = await _session(integrator)
    socket, _ = await authed_socket(session.id, session_token_issue(session_id=session.id))
    for _ in range(4):
        await socket.send_to(bytes_data=LIVE)
    await asyncio.sleep(0.3)
    first = await socket.receive_json_from()
    assert first["type"] in {"feedback", "progress"}
    result = (await _capture(socket))[-1]
    assert result["verdict"] == "pass", result
    await socket.disconnect()


async def test_unknown_control_messages_get_an_error(integrator):
    session = await _session(integrator)
    socket, _ = await authed_socket(session.id, session_token_issue(session_id=session.id))
    await socket.send_json_to({"type": "launch"})
    assert (await socket.receive_json_from())["code"] == "badMessage"
    await socket.send_to(text_data="{" * 10000)
    assert (await socket.receive_json_from())["code"] == "badMessage"
    await socket.send_json_to({"type": "ping"})
    assert (await socket.receive_json_from()) == {"type": "pong"}
    await socket.disconnect()


@pytest.mark.slow
async def test_disconnecting_mid_challenge_then_reconnecting_restarts_the_attempt_cleanly(integrator):
    from .conftest import BALANCED

    session = await _session(integrator, verifiers=BALANCED)
    socket, state = await authed_socket(session.id, session_token_issue(session_id=session.id))
    await _capture(socket, ScriptedUser(), kind="progress")
    await socket.disconnect()
    assert await _status(session.id) == "in_progress"
    again, state2 = await authed_socket(session.id, state["resumeToken"])
    assert state2["status"] == "in_progress" and state2["attempt"] == 1
    user = ScriptedUser()
    messages = await _capture(again, user)
    assert [m["challenge"] for m in messages if m["type"] == "challenge"] == user.challenges == session.challenges
    assert messages[-1]["verdict"] == "pass", messages[-1]
    await again.disconnect()


async def test_a_second_connection_takes_over_and_the_first_is_closed(integrator):
    session = await _session(integrator)
    first, _ = await authed_socket(session.id, session_token_issue(session_id=session.id))
    second, _ = await authed_socket(session.id, session_token_issue(session_id=session.id))
    messages, code = await closed_with(first)
    assert code == CloseCode.SUPERSEDED and messages[-1]["code"] == "superseded"
    await second.disconnect()


@pytest.mark.slow
async def test_reconnecting_after_completion_reads_the_result_from_the_database(integrator):
    session = await _session(integrator)
    socket, state = await authed_socket(session.id, session_token_issue(session_id=session.id))
    assert (await _capture(socket))[-1]["verdict"] == "pass"
    await socket.disconnect()
    again, state2 = await authed_socket(session.id, state["resumeToken"])
    assert state2["status"] == "completed"
    messages, code = await closed_with(again)
    assert messages[0]["type"] == "result" and messages[0]["verdict"] == "pass"
    assert code == CloseCode.SESSION_FINISHED


async def test_cancel_finishes_the_session_as_cancelled(integrator):
    session = await _session(integrator)
    socket, _ = await authed_socket(session.id, session_token_issue(session_id=session.id))
    await socket.send_json_to({"type": "cancel"})
    result = await socket.receive_json_from()
    assert result["type"] == "result" and result["verdict"] == "fail" and result["reasons"] == ["cancelled"]
    assert await _status(session.id) == "cancelled"
    await socket.disconnect()


async def test_a_socket_without_auth_is_closed_after_the_timeout(integrator, settings):
    settings.CAPTURE_AUTH_TIMEOUT_SECONDS = 0.2
    session = await _session(integrator)
    socket = await open_socket(session.id)
    messages, code = await closed_with(socket)
    assert code == CloseCode.UNAUTHENTICATED and messages[0]["code"] == "authTimeout"


async def test_an_expired_session_sends_its_result_and_closes_with_4410(integrator):
    session = await _session(integrator)
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        token = session_token_issue(session_id=session.id)
        socket = await open_socket(session.id)
        await socket.send_json_to({"type": "auth", "token": token})
        messages, code = await closed_with(socket)
    assert code == CloseCode.SESSION_FINISHED
    assert messages[0]["type"] == "state" and messages[0]["status"] == "expired"
    assert messages[-1]["type"] == "result" and messages[-1]["reasons"] == ["sessionExpired"]
    assert await _status(session.id) == "expired"


async def test_a_retry_asked_for_after_the_time_to_live_expires_the_session(integrator):
    """Past its time to live a session waiting for "retry" expires at once, as a frame would make it; it used to
    answer retryNotAllowed and stay in progress until the sweep ran."""
    session = await _session(integrator)
    await sync_to_async(Session.objects.filter(id=session.id).update)(
        status=Session.Status.IN_PROGRESS, verdict="retry", attempt=1
    )
    socket, state = await authed_socket(session.id, session_token_issue(session_id=session.id))
    assert state["type"] == "state" and state["status"] == "in_progress"
    announced = await receive_until(socket, "result")  # the stored verdict
    assert announced[-1]["verdict"] == "retry", announced
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        await socket.send_json_to({"type": "retry"})
        messages = await receive_until(socket, "result")
    assert not [m for m in messages if m.get("code") == "retryNotAllowed"], messages
    assert messages[-1]["reasons"] == ["sessionExpired"], messages
    assert await _status(session.id) == "expired"
    await socket.disconnect()


async def test_a_malformed_socket_path_closes_with_4404():
    from channels.testing import WebsocketCommunicator

    from config.asgi import application

    from .socket_helpers import ORIGIN

    socket = WebsocketCommunicator(application, "/ws/v1/sessions/not-a-uuid/", headers=[ORIGIN])
    connected, _ = await socket.connect()
    assert connected
    messages, code = await closed_with(socket)
    assert code == CloseCode.UNKNOWN_SESSION and messages[0]["code"] == "unknownSession"


async def _flood(socket, messages: int, send) -> tuple[list[dict], int]:
    for _ in range(messages):
        await send()
    return await closed_with(socket)


async def test_a_flood_of_pings_closes_with_4429(integrator, settings):
    session = await _session(integrator)
    socket, _ = await authed_socket(session.id, session_token_issue(session_id=session.id))
    messages, code = await _flood(socket, 1000, lambda: socket.send_json_to({"type": "ping"}))
    assert code == CloseCode.FLOOD and messages[-1]["code"] == "flood"
    assert len([m for m in messages if m["type"] == "pong"]) < settings.CAPTURE_MAX_MESSAGES_PER_SECOND


async def test_a_flood_of_frames_that_are_not_jpeg_closes_with_4429(integrator, settings):
    session = await _session(integrator)
    socket, _ = await authed_socket(session.id, session_token_issue(session_id=session.id))
    messages, code = await _flood(socket, 400, lambda: socket.send_to(bytes_data=b"\x89PNG not a jpeg"))
    assert code == CloseCode.FLOOD and messages[-1]["code"] == "flood"
    assert len([m for m in messages if m.get("code") == "badFrame"]) < settings.CAPTURE_MAX_MESSAGES_PER_SECOND


async def test_pings_at_a_human_pace_are_all_answered(integrator):
    session = await _session(integrator)
    socket, _ = await authed_socket(session.id, session_token_issue(session_id=session.id))
    for _ in range(20):
        await socket.send_json_to({"type": "ping"})
        assert await socket.receive_json_from() == {"type": "pong"}
    await socket.disconnect()


@pytest.mark.usefixtures("memory_layer")
async def test_frame_events_of_another_attempt_are_ignored(integrator):
    """A frame still queued for a closed connection is answered after a new socket took over: its sequence
    number is not the new socket's, and its feedback is not the new attempt's."""
    from channels.layers import get_channel_layer

    from apps.sessions.events import session_group
    from apps.sessions.state_store import capture_record_get

    session = await _session(integrator)
    socket, _state = await authed_socket(session.id, session_token_issue(session_id=session.id))
    current = (await sync_to_async(capture_record_get)(session_id=str(session.id)))["gen"]
    feedback = {"type": "feedback", "codes": ["ok"]}
    layer = get_channel_layer()
    for gen in ("an-older-attempt", current):
        event = {"type": "capture.frame", "seq": 1, "gen": gen, "messages": [{**feedback, "gen": gen}]}
        await layer.group_send(session_group(str(session.id)), event)
    received = await socket.receive_json_from(timeout=5)
    assert received["gen"] == current  # the older attempt's event was dropped, this one's delivered
    await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


@pytest.mark.usefixtures("memory_layer")
async def test_a_socket_open_for_long_gets_a_fresh_resume_token_and_can_reconnect_after_the_first_died(
    integrator, settings
):
    """The resume token came only with ``auth``: a socket that dropped more than its life (ten minutes) after
    that was refused ``tokenExpired``, which ended continuous checks that last an hour. Tokens of 4 s here."""
    settings.SESSION_TOKEN_TTL_SECONDS = 4
    session = await _session(integrator)
    socket, state = await authed_socket(session.id, session_token_issue(session_id=session.id))
    first = state["resumeToken"]
    await asyncio.sleep(2.1)  # half the token's life
    await socket.send_json_to({"type": "ping"})
    fresh = (await receive_until(socket, "token"))[-1]["resumeToken"]
    assert fresh != first
    await socket.disconnect()
    await asyncio.sleep(2.5)  # the first resume token is dead, the fresh one is not
    again, state = await authed_socket(session.id, fresh)
    assert state["type"] == "state" and state["status"] == "in_progress", state
    await again.disconnect()
    late, refused = await authed_socket(session.id, first)
    assert refused["code"] == "tokenExpired"
    await late.disconnect()
