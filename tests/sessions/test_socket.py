from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from celery.signals import task_prerun
from channels.db import database_sync_to_async as sync_to_async  # closes its DB connection after use

from apps.sessions.models import Session
from apps.sessions.protocol import CloseCode
from apps.sessions.tokens import session_token_issue

from .conftest import BALANCED, make_session
from .socket_helpers import authed_socket, closed_with, reply_after_late_frames, stream_until
from .synthetic_clips import ScriptedUser, empty_room, frozen_still, photo_attack

# Every frame is a synthetic webcam frame of a real face, analysed by the real engine (eager Celery, in process).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("real_engine"), pytest.mark.slow]


def _attempts(session_id) -> list[dict]:
    from apps.sessions.models import SessionAttempt

    rows = SessionAttempt.objects.filter(session_id=session_id).order_by("number")
    return [
        {**{f: getattr(a, f) for f in ("number", "outcome", "reasons", "timeline", "frames", "scores")},
         "thumbnails": a.thumbnails.count()}
        for a in rows
    ]  # fmt: skip


async def _get(session_id) -> Session:
    return await sync_to_async(Session.objects.get)(id=session_id)


async def _capture(socket, user: ScriptedUser | None = None, frames=None, timeout: float = 30) -> list[dict]:
    user = user or ScriptedUser(passive_blink=True)
    return await stream_until(socket, frames or user, gap=0.105, timeout=timeout, on_message=user.on_message)


@pytest.fixture
def frame_tasks() -> Iterator[list[str]]:
    """The names of the Celery tasks that ran (eagerly, in process) while the test did."""
    ran: list[str] = []

    def seen(sender: Any = None, **kwargs: Any) -> None:
        ran.append(sender.name)

    task_prerun.connect(seen, weak=False)
    yield ran
    task_prerun.disconnect(seen)


@pytest.mark.parametrize("analysis", ["worker", "web"])
async def test_a_passive_live_capture_passes_and_the_verdict_is_stored(integrator, settings, frame_tasks, analysis):
    # "web": the socket's own process analyses the frames (no frames task) and hands the feedback straight back.
    settings.CAPTURE_ANALYSIS = analysis
    session = await sync_to_async(make_session)(integrator.account)
    socket, state = await authed_socket(session.id, session_token_issue(session_id=session.id))
    assert state["type"] == "state" and state["status"] == "in_progress" and state["resumeToken"]
    # Before the person sits down the camera sees an empty room: the page is told there is no face.
    await socket.send_to(bytes_data=empty_room())
    nobody = (await stream_until(socket, [], kind="feedback"))[-1]
    assert nobody["codes"] == ["noFace"] and nobody["faceCount"] == 0
    messages = await _capture(socket)
    result = messages[-1]
    assert result["verdict"] == "pass" and result["verificationResult"] == "Pass", result
    assert any(m["type"] == "state" and m["status"] == "analysing" for m in messages)
    assert any(m["type"] == "feedback" and m["codes"] == ["ok"] for m in messages)
    assert any(m["type"] == "progress" and m["progress"] == 1.0 for m in messages)
    stored = await _get(session.id)
    assert stored.status == "completed" and stored.verification_result == "Pass"
    assert ("apps.sessions.tasks.frame_analyze" in frame_tasks) is (analysis == "worker"), set(frame_tasks)
    await socket.disconnect()


async def test_an_active_capture_announces_each_challenge_in_turn(integrator):
    session = await sync_to_async(make_session)(integrator.account, BALANCED)
    socket, state = await authed_socket(session.id, session_token_issue(session_id=session.id))
    assert state["challengesTotal"] == 2
    user = ScriptedUser()
    messages = await _capture(socket, user, timeout=30)
    challenges = [m["challenge"] for m in messages if m["type"] == "challenge"]
    assert challenges == user.challenges == session.challenges
    assert messages[-1]["verdict"] == "pass", messages[-1]
    await socket.disconnect()


async def test_a_held_up_photo_fails_with_presentation_attack(integrator):
    session = await sync_to_async(make_session)(integrator.account)
    socket, _ = await authed_socket(session.id, session_token_issue(session_id=session.id))
    result = (await _capture(socket, frames=photo_attack()))[-1]
    if result["verdict"] == "retry":
        # On a loaded machine frames that arrive late are skipped; too few left is too little evidence
        # either way (a retry, never a pass), and the next attempt gets the whole print again.
        assert result["reasons"] == ["insufficientMotion"], result
        await socket.send_json_to({"type": "retry"})
        assert (await reply_after_late_frames(socket))["status"] == "in_progress"
        result = (await _capture(socket, frames=photo_attack()))[-1]
    assert result["verdict"] == "fail" and result["reasons"] == ["presentationAttack"], result
    stored = await _get(session.id)
    assert stored.verification_result == "Fail" and stored.verification_failed_reasons == ["presentationAttack"]
    await socket.disconnect()


async def test_a_retry_verdict_offers_another_attempt_on_the_same_socket(integrator):
    session = await sync_to_async(make_session)(integrator.account)
    socket, _ = await authed_socket(session.id, session_token_issue(session_id=session.id))
    # Holding perfectly still without a blink for the whole passive window: not enough evidence either way.
    first = (await _capture(socket, frames=frozen_still()))[-1]
    assert first["verdict"] == "retry" and first["reasons"] == ["insufficientMotion"], first
    assert first["attemptsLeft"] == 2 and first["redirectUrl"] is None
    await socket.send_to(bytes_data=frozen_still()[0])
    assert (await socket.receive_json_from())["code"] == "notCapturing"  # waiting for the user's choice
    await socket.send_json_to({"type": "retry"})
    state = await reply_after_late_frames(socket)  # frames sent before the verdict was seen may still be answered
    assert state["type"] == "state" and state["status"] == "in_progress" and state["attempt"] == 2
    await socket.send_json_to({"type": "retry"})  # none is waiting: the attempt under way goes on
    assert (await reply_after_late_frames(socket))["code"] == "retryNotAllowed"
    second = (await _capture(socket))[-1]
    assert second["verdict"] == "pass", second
    stored = await _get(session.id)
    assert stored.attempt == 2 and stored.verification_result == "Pass"
    # Both attempts are kept for the operator, each with what the engine saw frame by frame.
    attempts = await sync_to_async(_attempts)(session.id)
    assert [(a["number"], a["outcome"], a["reasons"]) for a in attempts] == [
        (1, "retry", ["insufficientMotion"]),
        (2, "pass", []),
    ]
    for attempt in attempts:
        series, frames = attempt["timeline"]["series"], attempt["timeline"]["frames"]
        assert len(series["t"]) >= 20 and {"yaw_ratio", "eye_open", "mouth_open"} <= set(series)
        assert attempt["frames"] == len(frames) >= len(series["t"]) and attempt["thumbnails"] >= 1
        assert attempt["scores"] and attempt["timeline"]["parallax"]["t"]
    _, code = await closed_with(socket)  # the session is finished: the socket closes after the result
    assert code == CloseCode.SESSION_FINISHED


async def test_a_missed_challenge_is_asked_again_as_a_fresh_one_and_the_session_can_still_pass(integrator):
    session = await sync_to_async(make_session)(integrator.account, BALANCED)
    socket, _ = await authed_socket(session.id, session_token_issue(session_id=session.id))
    first, second = session.challenges
    user = ScriptedUser(answers={first: "hold"})  # the person misses the first prompt, then does each one asked
    messages = await _capture(socket, user, timeout=45)
    shown = [m for m in messages if m["type"] == "challenge"]
    prompts = [(m["challenge"], m["index"], m["reprompt"], m["repromptsLeft"]) for m in shown]
    assert len(prompts) == 3, prompts
    fresh = prompts[1][0]
    assert fresh not in session.challenges  # a challenge not in the plan, from the attempt's own reserve
    assert prompts == [(first, 0, False, 2), (fresh, 0, True, 1), (second, 1, False, 1)]
    assert messages[-1]["verdict"] == "pass", messages[-1]
    stored = await _get(session.id)
    assert stored.verification_result == "Pass" and stored.verification_failed_reasons == []
    # The operator still sees the miss.
    assert stored.challenge_outcomes == {first: False, fresh: True, second: True}
    await socket.disconnect()
