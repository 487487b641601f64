"""Ending a session and restarting an attempt wait for the frame being analysed, which saves its state last.

A thread holds the session's lock as a frame being analysed does, and saves the old attempt's record once
the other side has started: the record that remains must be the one the other side meant.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from apps.sessions.models import Session
from apps.sessions.services.create import capture_attempt_reset
from apps.sessions.services.lifecycle import session_cancel
from apps.sessions.session_locks import session_lock
from apps.sessions.state_store import CaptureRecord, capture_record_get, capture_record_put

from .conftest import make_session

pytestmark = pytest.mark.django_db(transaction=True)


def _in_progress(integrator) -> tuple[Session, CaptureRecord]:
    session = make_session(integrator.account)
    Session.objects.filter(id=session.id).update(status=Session.Status.IN_PROGRESS, attempt=1)
    session.refresh_from_db()
    return session, capture_attempt_reset(session=session)


def _frame_in_flight(session_id: str, record: CaptureRecord, then: Callable[[], None]) -> None:
    """Hold the lock like a frame being analysed; once ``then`` has started, save ``record`` and let go."""
    held, started = threading.Event(), threading.Event()

    def frame() -> None:
        with session_lock(session_id=session_id) as acquired:
            assert acquired
            held.set()
            started.wait(10)
            time.sleep(0.3)  # long enough for the other side to do its work if it does not wait for the lock
            capture_record_put(session_id=session_id, record=record)

    thread = threading.Thread(target=frame)
    thread.start()
    assert held.wait(10)
    started.set()
    then()
    thread.join(10)


def test_a_cancel_while_a_frame_is_analysed_leaves_no_capture_state(integrator):
    session, record = _in_progress(integrator)
    sid = str(session.id)
    _frame_in_flight(sid, {**record, "seq": 1}, lambda: session_cancel(session_id=sid))
    assert Session.objects.get(id=session.id).status == Session.Status.CANCELLED
    assert capture_record_get(session_id=sid) is None  # the frame's save did not bring the face data back


def test_a_new_attempt_is_not_overwritten_by_a_frame_of_the_old_one(integrator):
    session, old = _in_progress(integrator)
    sid = str(session.id)
    fresh: list[CaptureRecord] = []
    _frame_in_flight(sid, {**old, "seq": 1}, lambda: fresh.append(capture_attempt_reset(session=session)))
    current = capture_record_get(session_id=sid)
    assert current is not None and current["gen"] == fresh[0]["gen"] != old["gen"]


def test_a_reconnect_keeps_an_attempt_whose_capture_a_frame_just_completed(integrator):
    session, old = _in_progress(integrator)
    sid = str(session.id)
    kept: list[CaptureRecord] = []
    reconnect = lambda: kept.append(capture_attempt_reset(session=session, keep_completed=True))  # noqa: E731
    _frame_in_flight(sid, {**old, "seq": 1, "complete": True}, reconnect)
    current = capture_record_get(session_id=sid)
    assert current is not None and current["gen"] == old["gen"] == kept[0]["gen"] and current["complete"]
