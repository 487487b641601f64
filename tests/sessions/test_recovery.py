"""A killed frames worker never strands the page: its lock lapses, its verdict is (re)computed or
re-published by the recovery sweep, the page's status poll reads the stored result, and the
capture state (face crops) goes with the session. Real Redis (cache and channel layer) and
PostgreSQL in CI.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.sessions import services, tasks
from apps.sessions.models import Session
from apps.sessions.protocol import CloseCode
from apps.sessions.services import frames, recovery, verdict
from apps.sessions.session_locks import LOCK_TTL_SECONDS, session_lock, session_lock_held
from apps.sessions.state_store import capture_record_get, result_announced_mark
from apps.sessions.tokens import page_key_create, session_token_issue
from tests.conftest import require_postgres, require_redis
from tests.face_engine.synth_capture import passive_clip
from tests.query_plans import plain_index_dropped, sql_plan, statements_on

from . import real_captures
from .conftest import make_session
from .socket_helpers import authed_socket, closed_with

ROOT = Path(__file__).resolve().parents[2]


def _status(session: Session) -> dict:
    """What the hosted page polls: the stored view of the session, with its page key."""
    response = Client().get(f"/s/{session.id}/status?k={page_key_create(session_id=session.id)}")
    assert response.status_code == 200
    return response.json()


def _capture_until_the_worker_dies(session: Session, *, where: object, name: str, monkeypatch) -> dict:
    """A live person holding still until the capture completes, on a worker that dies at ``where.name``."""
    Session.objects.filter(id=session.id).update(status="in_progress", attempt=1)
    record = services.capture_attempt_reset(session=session)
    start = time.time()

    def worker_dies(*args: object, **kwargs: object) -> None:
        raise SystemExit("worker killed")

    with monkeypatch.context() as patch:
        patch.setattr(where, name, worker_dies)
        # The frames go in as fast as this process analyses them, stamped 15 a second: on a loaded machine
        # the stamps fall more than a second behind the clock and the worker would drop the rest as stale
        # (the capture then never completes). This test is about the dead worker, not about late frames.
        patch.setattr(settings, "CAPTURE_STALE_FRAME_SECONDS", 3600.0)
        with pytest.raises(SystemExit):
            _feed_live_clip(session, record, start=start)
    return record


def _feed_live_clip(session: Session, record: dict, *, start: float) -> None:
    """A live person's passive clip, frame by frame through the frames worker, until the capture ends."""
    for seq, frame in enumerate(passive_clip("astronaut", 3.5), start=1):
        services.session_frame_analyze(
            session_id=str(session.id),
            gen=record["gen"],
            seq=seq,
            frame_b64=services.frame_encode(frame),
            received_at=start + seq / 15,
            key_frame_request=tasks.key_frame_embed_request,
        )
        if Session.objects.get(id=session.id).status != "in_progress":
            return


@pytest.mark.slow
@pytest.mark.django_db
def test_a_worker_killed_mid_verdict_gets_its_verdict_from_the_next_sweep(integrator, real_engine, monkeypatch):
    require_redis()
    session = make_session(integrator.account)
    _capture_until_the_worker_dies(session, where=frames, name="session_decide", monkeypatch=monkeypatch)
    session.refresh_from_db()
    assert session.status == "analysing" and _status(session)["result"] is None
    assert not session_lock_held(session_id=str(session.id))  # the dead worker's lock is gone

    started = time.monotonic()
    tasks.sessions_recover()  # one beat of the sweep (every SESSION_RECOVERY_SWEEP_SECONDS)

    session.refresh_from_db()
    assert session.status == "completed" and session.verification_result == "Pass"
    assert _status(session)["result"]["verdict"] == "pass"
    assert capture_record_get(session_id=str(session.id)) is None
    assert time.monotonic() - started < 10


@pytest.mark.django_db
def test_the_sweep_leaves_a_session_alone_while_a_live_worker_holds_its_lock(integrator):
    require_redis()
    session = make_session(integrator.account)
    Session.objects.filter(id=session.id).update(status="in_progress", attempt=1)
    services.capture_attempt_reset(session=session)
    Session.objects.filter(id=session.id).update(status="analysing")
    queued: list[tuple[str, str]] = []

    with session_lock(session_id=str(session.id)) as acquired:
        assert acquired
        time.sleep(LOCK_TTL_SECONDS + 1)  # renewed while held: still ours past its TTL
        assert session_lock_held(session_id=str(session.id))
        assert recovery.sessions_rescue_analysing(decide=lambda *args: queued.append(args)) == 0
    assert queued == []


@pytest.mark.django_db
def test_a_dead_workers_session_is_found_among_more_finished_sessions_than_one_chunk(integrator):
    require_redis()
    require_postgres()
    # The worker committed this verdict, then died before deleting the capture state and publishing.
    dead = make_session(integrator.account)
    Session.objects.filter(id=dead.id).update(status="in_progress", attempt=1)
    services.capture_attempt_reset(session=dead)
    finished = timezone.now() - timedelta(minutes=1)
    Session.objects.filter(id=dead.id).update(status="completed", completed_at=finished, verification_result="Pass")
    # Then more sessions than the sweep looks up at once (500), created later and finished and announced as usual.
    newer = Session.objects.bulk_create(
        Session(
            account=integrator.account,
            status="completed",
            expires_at=finished + timedelta(minutes=30),
            completed_at=finished + timedelta(seconds=i / 100),
        )
        for i in range(600)
    )
    for session in newer:
        result_announced_mark(session_id=str(session.id))

    assert recovery.sessions_results_announce() == 1

    assert capture_record_get(session_id=str(dead.id)) is None
    assert recovery.sessions_results_announce() == 0  # announced once


@pytest.mark.django_db
def test_a_dead_workers_analysing_session_is_rescued_among_more_analysing_sessions_than_one_sweep(integrator):
    """The sweep looks at 200 analysing sessions at a time: the oldest first, so a stuck one is not passed over
    for ever by newer ones (before, the newest 200 only)."""
    require_redis()
    dead = make_session(integrator.account)
    Session.objects.filter(id=dead.id).update(status="in_progress", attempt=1)
    services.capture_attempt_reset(session=dead)  # its capture state: the verdict can be computed again
    Session.objects.filter(id=dead.id).update(status="analysing")
    later = timezone.now() + timedelta(minutes=30)
    Session.objects.bulk_create(
        Session(account=integrator.account, status="analysing", expires_at=later) for _ in range(250)
    )
    queued: list[tuple[str, str]] = []
    assert recovery.sessions_rescue_analysing(decide=lambda *args: queued.append(args)) == 1
    assert [session_id for session_id, _ in queued] == [str(dead.id)]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
async def test_a_verdict_stored_by_a_worker_killed_before_publishing_reaches_the_open_socket(
    integrator, real_engine, monkeypatch
):
    require_redis()
    require_postgres()
    session = await database_sync_to_async(make_session)(integrator.account)
    socket, state = await authed_socket(session.id, session_token_issue(session_id=session.id))
    assert state["status"] == "in_progress"
    # The worker commits the verdict, then dies before it deletes the capture state and publishes.
    session = await database_sync_to_async(Session.objects.get)(id=session.id)
    await database_sync_to_async(Session.objects.filter(id=session.id).update)(status="analysing")
    session = await database_sync_to_async(Session.objects.get)(id=session.id)
    passed = real_captures.live_passive_verdict()

    def worker_dies(**kwargs: object) -> None:
        raise SystemExit("worker killed")

    monkeypatch.setattr(verdict, "capture_record_delete", worker_dies)
    with pytest.raises(SystemExit):
        await database_sync_to_async(services.session_verdict_record)(session=session, verdict=passed)
    monkeypatch.undo()
    assert await database_sync_to_async(capture_record_get)(session_id=str(session.id)) is not None
    # The page's poll already sees the stored result ...
    polled = await database_sync_to_async(_status)(session)
    assert polled["status"] == "completed" and polled["result"]["verdict"] == "pass"

    time.sleep(2.1)  # past the grace a live worker gets to publish its own result
    await database_sync_to_async(tasks.sessions_recover)()

    # ... and the sweep publishes it to the open socket (which then closes: the session is finished) and
    # drops the face crops.
    messages, code = await closed_with(socket)
    assert messages[-1]["verdict"] == "pass" and messages[-1]["redirectUrl"] is None
    assert code == CloseCode.SESSION_FINISHED
    assert await database_sync_to_async(capture_record_get)(session_id=str(session.id)) is None
    assert await database_sync_to_async(recovery.sessions_results_announce)() == 0  # published once


_HOLDER = """
import os, sys, time
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
django.setup()
from apps.sessions.session_locks import session_lock
with session_lock(session_id=sys.argv[1]) as acquired:
    print("held" if acquired else "busy", flush=True)
    time.sleep(600)
"""


def test_a_lock_held_by_a_killed_worker_stops_blocking_within_seconds():
    redis_url = require_redis()
    session_id = "lock-" + os.urandom(6).hex()
    env = {**os.environ, "REDIS_URL": redis_url, "DJANGO_SETTINGS_MODULE": "config.settings.base"}
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, session_id], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        time.sleep(LOCK_TTL_SECONDS + 1)
        with session_lock(session_id=session_id) as acquired:
            assert not acquired  # a live holder renews its lock
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        killed = time.monotonic()
        while True:
            with session_lock(session_id=session_id) as acquired:
                if acquired:
                    break
            assert time.monotonic() - killed < LOCK_TTL_SECONDS + 1, "the dead worker's lock still blocks"
            time.sleep(0.2)
    finally:
        if holder.poll() is None:
            holder.kill()


def test_the_recovery_sweep_runs_every_two_seconds(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["capture-sessions-recover"]
    assert entry["task"] == "apps.sessions.tasks.sessions_recover" and entry["schedule"] == 2.0


@pytest.mark.django_db
def test_a_late_frame_holding_the_lock_does_not_leave_the_verdict_to_the_sweep(integrator, real_engine, monkeypatch):
    """A frame that arrived after the completing one can hold the session's lock when the verdict starts
    (frames run concurrently); the completing worker waits for it instead of giving up."""
    import threading

    require_redis()
    session = make_session(integrator.account)
    Session.objects.filter(id=session.id).update(status="in_progress", attempt=1)
    record = services.capture_attempt_reset(session=session)
    decide, holding = frames.session_decide, threading.Event()

    def late_frame() -> None:
        with session_lock(session_id=str(session.id)) as acquired:
            assert acquired
            holding.set()
            time.sleep(0.5)

    def decide_while_a_frame_holds_the_lock(**kwargs: object) -> bool:
        threading.Thread(target=late_frame, daemon=True).start()
        assert holding.wait(5)
        return decide(**kwargs)

    monkeypatch.setattr(frames, "session_decide", decide_while_a_frame_holds_the_lock)
    _feed_live_clip(session, record, start=time.time())
    session.refresh_from_db()
    assert session.status == "completed" and session.verification_result == "Pass"


@pytest.mark.django_db
def test_one_verdict_that_fails_in_the_sweep_does_not_stop_expiry_on_the_embedded_default(integrator, monkeypatch):
    """Eager tasks (the embedded default) run a re-queued verdict inside the sweep: its failure is its own."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.core.models import PeriodicJobRun
    from apps.core.periodic import periodic_jobs_run_due

    assert settings.CELERY_TASK_ALWAYS_EAGER
    now = timezone.now()
    stuck = make_session(integrator.account)
    services.capture_attempt_reset(session=stuck)
    Session.objects.filter(id=stuck.id).update(
        status="analysing", attempt=1, attempt_started_at=now - timedelta(minutes=5)
    )
    due = make_session(integrator.account)
    Session.objects.filter(id=due.id).update(expires_at=now - timedelta(minutes=1))

    def state_that_fails(*args, **kwargs):
        raise ValueError("a state the engine cannot load")

    monkeypatch.setattr(verdict, "capture_state_load", state_that_fails)
    PeriodicJobRun.objects.all().delete()
    periodic_jobs_run_due()
    assert Session.objects.get(id=due.id).status == "expired"
    assert PeriodicJobRun.objects.get(name="capture-sessions-expire").last_error == ""


@pytest.mark.django_db
def test_the_recovery_sweep_reads_only_the_recently_finished_sessions_through_an_index(integrator):
    """Every 2 s: without an index on completed_at it read the whole table (31 ms at 200,000 sessions)."""
    make_session(integrator.account)
    with CaptureQueriesContext(connection) as queries:
        recovery.sessions_results_announce()

    (sweep,) = statements_on(queries.captured_queries, "capture_session", "SELECT")
    plain_index_dropped("capture_session", "status")  # it matches nearly every session: no help at scale
    plan = sql_plan(sweep)
    assert "capture_session_completed_idx" in plan and "Seq Scan" not in plan, plan
