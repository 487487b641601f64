"""A page reload during a started attempt spends it: new challenges, one attempt fewer; a socket reconnect does not."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.utils import timezone

from apps.sessions.models import Session, SessionAttempt
from apps.sessions.services import frame_encode, session_frame_analyze
from apps.sessions.services.connect import session_connect
from apps.sessions.state_store import capture_record_get, capture_record_put
from apps.sessions.tokens import session_token_issue

from .conftest import make_session

pytestmark = pytest.mark.django_db

BALANCED = {"liveness": {"type": "Verification", "challengeType": "Advanced"}}


def _path(session: Session) -> str:
    return session.session_url.split("127.0.0.1:8000", 1)[-1]


def _started(integrator, max_attempts: int = 3, *, named: bool = True) -> Session:
    """A session whose capture began; ``named``: the engine has named its first challenge (it had the face)."""
    session = make_session(integrator.account, BALANCED)
    Session.objects.filter(id=session.id).update(max_attempts=max_attempts)
    _connect(session, named=named)
    session.refresh_from_db()
    assert session.status == Session.Status.IN_PROGRESS and session.attempt_started_at is not None
    return session


def _connect(session: Session, *, named: bool = True) -> None:
    session_connect(session_id=str(session.id), token=session_token_issue(session_id=session.id))  # the capture began
    if named:
        session.refresh_from_db()
        record = capture_record_get(session_id=str(session.id))
        capture_record_put(session_id=str(session.id), record={**record, "challenge": session.challenges[0]})


def test_a_reload_during_an_attempt_draws_new_challenges_and_counts_as_an_attempt(integrator):
    session = _started(integrator)
    seen = [list(session.challenges)]
    assert Client().get(_path(session)).status_code == 200
    session.refresh_from_db()
    assert session.attempt == 2 and session.attempt_started_at is None
    seen.append(list(session.challenges))
    # A second load before the new attempt began costs nothing more.
    assert Client().get(_path(session)).status_code == 200
    session.refresh_from_db()
    assert session.attempt == 2
    # Four challenges drawn from six: two draws alike by chance at most rarely; three in a row never here.
    _connect(session)
    Client().get(_path(session))
    session.refresh_from_db()
    seen.append(list(session.challenges))
    assert session.attempt == 3 and len({tuple(c) for c in seen}) > 1


def test_each_reloaded_attempt_is_kept_for_the_operator_as_abandoned(integrator, admin_client):
    session = _started(integrator)
    first, first_started = list(session.challenges), session.attempt_started_at
    Client().get(_path(session))
    _connect(session)
    session.refresh_from_db()
    second = list(session.challenges)
    Client().get(_path(session))
    Client().get(_path(session))  # before the third attempt began: nothing more to keep
    kept = list(SessionAttempt.objects.filter(session=session).order_by("number"))
    assert [(a.number, a.outcome, a.reasons) for a in kept] == [
        (1, "abandoned", ["reloaded"]),
        (2, "abandoned", ["reloaded"]),
    ]
    assert [a.challenges for a in kept] == [first, second]  # what each spent attempt showed
    assert kept[0].started_at == first_started and kept[0].ended_at >= first_started
    # The operator sees them on the session's page, as the console shows every attempt.
    page = admin_client.get(f"/admin/capture/session/{session.id}/change/").content.decode()
    assert page.count("abandoned") >= 2 and "reloaded" in page


def test_a_reload_on_the_last_attempt_keeps_it_as_failed(integrator):
    session = _started(integrator, max_attempts=1)
    Client().get(_path(session))
    (kept,) = SessionAttempt.objects.filter(session=session)
    assert (kept.number, kept.outcome, kept.reasons) == (1, "fail", ["attemptsExhausted"])


def test_a_socket_reconnect_costs_no_attempt(integrator):
    session = _started(integrator)
    session_connect(session_id=str(session.id), token=session_token_issue(session_id=session.id))
    session.refresh_from_db()
    assert session.attempt == 1


def test_a_reconnect_after_a_challenge_was_named_restarts_with_new_challenges_and_no_attempt_spent(integrator):
    """ "Start again" (the page reconnects) or a dropped socket restarts the attempt. With the same challenges, anyone
    could read them, prepare an answer at leisure and replay it after restarting; they are drawn again."""
    before = _started(integrator, named=False)
    drawn = list(before.challenges)
    _connect(before, named=False)  # no challenge named yet: nothing was shown, nothing changes
    before.refresh_from_db()
    assert before.challenges == drawn and before.attempt == 1
    seen = {tuple(drawn)}
    for _ in range(4):
        _connect(before)  # this one's record names a challenge ...
        _connect(before, named=False)  # ... and the next connect restarts the attempt
        before.refresh_from_db()
        record = capture_record_get(session_id=str(before.id))
        assert record["plan"]["challenges"] == before.challenges and record["challenge"] is None
        seen.add(tuple(before.challenges))
    assert before.attempt == 1  # no attempt spent
    # Four challenges drawn from six: five draws alike by chance do not happen.
    assert len(seen) > 1


def test_a_reload_on_the_last_attempt_ends_the_session_failed(integrator):
    session = _started(integrator, max_attempts=1)
    page = Client().get(_path(session))
    assert page.status_code == 410  # the page says it is finished; the integrator has the result
    session.refresh_from_db()
    assert session.status == Session.Status.COMPLETED and session.verification_result == "Fail"
    assert session.verification_failed_reasons == ["attemptsExhausted"]
    assert session.completed_at is not None and session.completed_at <= timezone.now()


def test_a_reload_before_the_capture_began_or_while_a_retry_waits_costs_nothing(integrator):
    fresh = make_session(integrator.account, BALANCED)
    Client().get(_path(fresh))
    fresh.refresh_from_db()
    assert fresh.status == Session.Status.CREATED
    waiting = _started(integrator)
    Session.objects.filter(id=waiting.id).update(verdict="retry")
    Client().get(_path(waiting))
    waiting.refresh_from_db()
    assert waiting.attempt == 1


def test_a_load_before_any_challenge_was_named_costs_nothing(integrator):
    """The page's own "Start again" after 20 s without a usable face reloads it: no challenge was shown, so
    nothing can be previewed, and it used to spend the attempt (on the last one, failing the session)."""
    session = _started(integrator, max_attempts=1, named=False)
    assert Client().get(_path(session) + "&start=1").status_code == 200
    session.refresh_from_db()
    assert (session.status, session.attempt) == (Session.Status.IN_PROGRESS, 1)
    assert not SessionAttempt.objects.filter(session=session).exists()


def test_frames_of_a_spent_attempt_cannot_complete_the_next_one(integrator, real_engine):
    """A reload spends the attempt while the first tab still streams: its frames, analysed after the reload,
    used to go on with the old capture and could complete the new attempt with challenges never shown."""
    from tests.sessions.synthetic_clips import clips

    session = _started(integrator)
    old = capture_record_get(session_id=str(session.id))
    assert Client().get(_path(session)).status_code == 200
    session.refresh_from_db()
    assert session.attempt == 2 and capture_record_get(session_id=str(session.id)) is None
    events = []
    session_frame_analyze(
        session_id=str(session.id), gen=old["gen"], seq=old["seq"] + 1, frame_b64=frame_encode(clips()["hold"][0]),
        received_at=time.time(), key_frame_request=lambda **_: None, deliver=events.append,
    )  # fmt: skip
    assert [e["type"] for e in events] == ["capture.skipped"]
    _connect(session)  # the reloaded page's socket starts the new attempt afresh
    assert capture_record_get(session_id=str(session.id))["gen"] != old["gen"]


def test_a_load_after_the_capture_completed_does_not_spend_it(integrator):
    session = _started(integrator, max_attempts=1)
    record = capture_record_get(session_id=str(session.id))
    capture_record_put(session_id=str(session.id), record={**record, "complete": True})  # its verdict is on its way
    Client().get(_path(session))
    session.refresh_from_db()
    assert (session.status, session.attempt, session.verification_failed_reasons) == ("in_progress", 1, [])
