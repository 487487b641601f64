"""The session state machine: verdict once, retries, expiry, cancel — and the webhook events they record."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.face_engine.types import Verdict
from apps.sessions import services, tasks
from apps.sessions.models import AttemptThumbnail, Session, SessionAttempt
from apps.sessions.services import frames
from apps.webhooks.event_types import EventType
from tests.conftest import require_postgres
from tests.face_engine.synth_capture import passive_clip
from tests.query_plans import plain_index_dropped, sql_plan, statements_on

from . import real_captures
from .conftest import make_session
from .synthetic_clips import clips

pytestmark = pytest.mark.django_db

WEBHOOK = {"webhookConfig": {"eventCallbackUrl": "https://hooks.example.com/liveproof"}}


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Webhook events as recorded (the seam the webhooks area owns), with whether a transaction was open."""
    import apps.webhooks.services as webhooks

    events: list[dict] = []

    def record(*, account, event_type, payload, url, **_):
        events.append({"type": event_type, "payload": payload, "url": url, "atomic": connection.in_atomic_block})

    monkeypatch.setattr(webhooks, "webhook_event_record", record)
    return events


def _verdict(kind: str = "pass") -> Verdict:
    """A real verdict of that kind: a live person holding still, a waved print, or someone who never moves."""
    verdict = {
        "pass": real_captures.live_passive_verdict,
        "fail": real_captures.print_attack_verdict,
        "retry": real_captures.still_verdict,
    }[kind]()
    assert verdict.verdict == kind, verdict
    return verdict


def _live_frame() -> bytes:
    return clips()["hold"][0]


def _analysing(session: Session, attempt: int = 1) -> Session:
    Session.objects.filter(id=session.id).update(status="analysing", attempt=attempt)
    session.refresh_from_db()
    return session


def test_the_verdict_is_written_once_and_records_the_completed_event_in_the_same_transaction(integrator, recorded):
    session = _analysing(make_session(integrator.account, **WEBHOOK))
    assert services.session_verdict_record(session=session, verdict=_verdict()) is True
    assert services.session_verdict_record(session=session, verdict=_verdict("fail")) is False
    session.refresh_from_db()
    assert session.status == "completed" and session.verification_result == "Pass"
    assert [e["type"] for e in recorded] == [EventType.SESSION_COMPLETED]
    assert recorded[0]["atomic"] is True
    assert recorded[0]["url"] == "https://hooks.example.com/liveproof"
    assert recorded[0]["payload"]["verificationResult"] == "Pass"


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_two_workers_racing_store_one_verdict(integrator, recorded):
    require_postgres()  # in-memory SQLite raises "table is locked" instead of serialising writers
    session = _analysing(make_session(integrator.account))
    outcomes: list[bool] = []
    barrier = threading.Barrier(2)

    def worker(kind: str) -> None:
        barrier.wait()
        copy = Session.objects.get(id=session.id)
        outcomes.append(services.session_verdict_record(session=copy, verdict=_verdict(kind)))
        connection.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in ("pass", "fail")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [False, True]
    assert len(recorded) == 1
    session.refresh_from_db()
    assert session.verification_result == ("Pass" if session.verdict == "pass" else "Fail")


@pytest.mark.slow
def test_a_retry_verdict_reopens_the_session_while_attempts_remain(integrator, recorded):
    session = _analysing(make_session(integrator.account))
    services.session_verdict_record(session=session, verdict=_verdict("retry"))
    session.refresh_from_db()
    assert session.verification_failed_reasons == ["insufficientMotion"]
    assert session.status == "in_progress" and session.verdict == "retry" and session.verification_result is None
    assert recorded == []
    assert services.session_result_message(session=session)["attemptsLeft"] == 2
    again = services.session_retry(session_id=str(session.id))
    assert again is not None and again.attempt == 2 and again.verdict == ""
    assert services.session_retry(session_id=str(session.id)) is None  # nothing to retry now


def test_the_last_attempt_turns_a_retry_into_a_fail(integrator, recorded, settings):
    settings.SESSION_MAX_ATTEMPTS = 2
    session = _analysing(make_session(integrator.account, **WEBHOOK), attempt=2)
    services.session_verdict_record(session=session, verdict=_verdict("retry"))
    session.refresh_from_db()
    assert session.status == "completed" and session.verification_result == "Fail"
    assert session.verification_failed_reasons == ["insufficientMotion", "attemptsExhausted"]
    assert [(e["type"], e["payload"]["verificationResult"]) for e in recorded] == [
        (EventType.SESSION_COMPLETED, "Fail")
    ]


def test_a_failed_verdict_records_one_completed_event_with_the_failure(integrator, recorded):
    session = _analysing(make_session(integrator.account, **WEBHOOK))
    assert services.session_verdict_record(session=session, verdict=_verdict("fail")) is True
    assert [e["type"] for e in recorded] == [EventType.SESSION_COMPLETED]
    payload = recorded[0]["payload"]
    assert payload["verificationResult"] == "Fail" and payload["livenessVerificationResult"] == "Fail"
    assert payload["verificationFailedReasons"] and payload["verificationSessionId"] == str(session.id)


def _record_then_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real event recording, then a crash before the caller's transaction commits."""
    import apps.webhooks.services as webhooks

    real = webhooks.webhook_event_record

    def record_then_crash(**kwargs):
        real(**kwargs)
        raise RuntimeError("the worker died here")

    monkeypatch.setattr(webhooks, "webhook_event_record", record_then_crash)


@pytest.mark.django_db(transaction=True)  # real commits and rollbacks: no test-wide transaction around the body
def test_a_crash_after_the_event_is_written_rolls_back_the_verdict_and_the_event(integrator, monkeypatch):
    from apps.webhooks.models import WebhookDelivery, WebhookEvent

    session = _analysing(make_session(integrator.account, **WEBHOOK))
    _record_then_crash(monkeypatch)
    with pytest.raises(RuntimeError):
        services.session_verdict_record(session=session, verdict=_verdict("fail"))
    session.refresh_from_db()
    assert session.status == "analysing" and session.verification_result is None
    assert not WebhookEvent.objects.exists() and not WebhookDelivery.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_crash_after_the_expiry_event_is_written_keeps_the_session_and_no_event(integrator, monkeypatch):
    from apps.webhooks.models import WebhookEvent

    with time_machine.travel(timezone.now() - timedelta(minutes=31)):
        old = make_session(integrator.account, **WEBHOOK)
    _record_then_crash(monkeypatch)
    with pytest.raises(RuntimeError):
        tasks.sessions_expire()
    old.refresh_from_db()
    assert old.status == "created" and not WebhookEvent.objects.exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_attempt_evidence_is_made_before_the_verdict_transaction(integrator, real_engine, monkeypatch, settings):
    """The attempt's timeline and thumbnails are CPU work: made inside the verdict's transaction, they held its
    row locks through it, the lock on the account's face collection among them, which every passed verdict of
    the account takes (one person, one faceId), so the account's verdicts queued behind each other's evidence."""
    import time

    from apps.sessions.services import attempts

    made_in: list[bool] = []
    real_timeline = attempts.capture_timeline

    def timeline(state):
        made_in.append(connection.in_atomic_block)
        return real_timeline(state)

    monkeypatch.setattr(attempts, "capture_timeline", timeline)
    settings.CAPTURE_STALE_FRAME_SECONDS = 3600.0  # frames go in as fast as this process analyses them
    session = make_session(integrator.account)
    Session.objects.filter(id=session.id).update(status="in_progress", attempt=1)
    record = services.capture_attempt_reset(session=session)
    start = time.time()
    for seq, frame in enumerate(passive_clip("astronaut", 3.5), start=1):
        _analyse(session, record, seq, start + seq / 15, frame)
        if Session.objects.get(id=session.id).status != "in_progress":
            break
    session.refresh_from_db()
    assert session.status == "completed" and session.verification_result == "Pass"
    assert session.face_id  # the verdict kept the face in the account's collection (the locked row)
    assert made_in == [False]
    attempt = session.attempts.get()
    assert attempt.timeline["parallax"]["t"] and attempt.thumbnails.exists()


def test_the_verdict_reads_the_account_with_the_session_and_the_attempt_once(integrator, real_engine, settings):
    """A passed verdict read the account twice (for the face it keeps, then again for the webhook, after the
    session's refresh dropped it) and asked whether the attempt was kept before get_or_create asked again.

    It also read the session row three times (for the "analysing" message, for the verdict, back after its
    UPDATE) and read before each face write, in savepoints: 30 statements on PostgreSQL, now 17 (with the
    account's collection made and no webhook). What the webhook sends is still the row as stored."""
    import json
    import re
    import time

    from apps.sessions.selectors import session_result_payload
    from apps.webhooks.models import WebhookEvent

    settings.CAPTURE_STALE_FRAME_SECONDS = 3600.0  # frames go in as fast as this process analyses them
    session = make_session(integrator.account, **WEBHOOK)
    Session.objects.filter(id=session.id).update(status="in_progress", attempt=1)
    record = services.capture_attempt_reset(session=session)
    start = time.time()
    statements: list[str] = []
    for seq, frame in enumerate(passive_clip("astronaut", 3.5), start=1):
        with CaptureQueriesContext(connection) as queries:
            _analyse(session, record, seq, start + seq / 15, frame)
        if Session.objects.get(id=session.id).status != "in_progress":
            statements = [query["sql"] for query in queries.captured_queries]
            break
    session.refresh_from_db()
    assert session.status == "completed" and session.verification_result == "Pass" and session.face_id
    account_reads = [sql for sql in statements if re.search(r'FROM "accounts_account"', sql)]
    attempt_reads = [sql for sql in statements if re.search(r'FROM "capture_sessionattempt"', sql)]
    assert account_reads == []  # read with the session, in its SELECT
    assert any('JOIN "accounts_account"' in sql for sql in statements)
    assert len(attempt_reads) == 1, attempt_reads  # get_or_create's own SELECT
    session_reads = [sql for sql in statements if re.match(r'SELECT .* FROM "capture_session" ', sql)]
    assert len(session_reads) == 1, session_reads  # with the account, for the state message and the verdict
    face_rows = [sql for sql in statements if re.search(r'"faces_(sessionface|facesighting)"', sql)]
    assert [re.sub(r" \(.*", "", sql) for sql in face_rows] == [
        'INSERT INTO "faces_sessionface"',  # an upsert: ON CONFLICT ("session_id") DO UPDATE
        'INSERT INTO "faces_facesighting"',  # ON CONFLICT DO NOTHING
    ], face_rows  # nothing read first, no savepoint of their own
    event = WebhookEvent.objects.get(session_id=session.id, type=EventType.SESSION_COMPLETED)
    sent = json.loads(event.body)
    assert sent["data"] == json.loads(json.dumps(session_result_payload(session=session), default=str)), sent


@pytest.mark.slow
def test_age_threshold_and_multiple_faces_fail_the_session(integrator):
    # The astronaut's real capture estimates her in her thirties: well under a 60-year threshold.
    too_young = {
        "liveness": {"type": "Verification", "challengeType": "Passive"},
        "age": {"type": "ThresholdVerification", "threshold": 60},
    }
    session = _analysing(make_session(integrator.account, too_young))
    services.session_verdict_record(session=session, verdict=_verdict())
    session.refresh_from_db()
    assert session.liveness_result == "Pass" and session.age_result == "Fail"
    assert session.verification_result == "Fail"
    assert session.verification_failed_reasons == ["ageVerificationFailed"]

    two_people = {
        "liveness": {"type": "Verification", "challengeType": "Passive"},
        "commonSettings": {"failOnMultipleFacesDetected": True},
    }
    crowded = _analysing(make_session(integrator.account, two_people))
    services.session_verdict_record(session=crowded, verdict=real_captures.two_people_verdict())
    crowded.refresh_from_db()
    assert crowded.total_face_count == 2 and crowded.verification_result == "Fail"
    assert "multipleFaces" in crowded.verification_failed_reasons
    assert crowded.face_recognition_result == "NotExecuted"


def test_unused_sessions_expire_after_30_minutes_with_a_webhook_event(integrator, recorded):
    fresh = make_session(integrator.account, **WEBHOOK)
    with time_machine.travel(timezone.now() - timedelta(minutes=31)):
        old = make_session(integrator.account, **WEBHOOK)
    assert tasks.sessions_expire() == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.status == "expired" and fresh.status == "created"
    assert old.verification_failed_reasons == ["sessionExpired"]
    assert [(e["type"], e["atomic"]) for e in recorded] == [(EventType.SESSION_EXPIRED, True)]
    assert tasks.sessions_expire() == 0  # idempotent


def test_the_expiry_task_runs_every_minute_from_beat(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["capture-sessions-expire"]
    assert schedule["task"] == "apps.sessions.tasks.sessions_expire"
    assert schedule["schedule"] == timedelta(minutes=1)


def test_a_finished_session_cannot_be_cancelled_or_expired(integrator, recorded):
    session = _analysing(make_session(integrator.account))
    services.session_verdict_record(session=session, verdict=_verdict())
    assert services.session_cancel(session_id=session.id) is False
    assert services.session_expire(session_id=session.id) is False
    session.refresh_from_db()
    assert session.status == "completed"


def test_a_capture_completes_into_analysing_only_once(integrator, real_engine):
    session = make_session(integrator.account)
    Session.objects.filter(id=session.id).update(status="in_progress", attempt=1)
    record = services.capture_attempt_reset(session=session)
    assert services.session_capture_complete(session_id=str(session.id), gen=record["gen"]) is True
    assert services.session_capture_complete(session_id=str(session.id), gen=record["gen"]) is False


def _analyse(session: Session, record: dict, seq: int, received_at: float, frame: bytes | None = None) -> None:
    frame_b64 = services.frame_encode(frame or _live_frame())
    services.session_frame_analyze(
        session_id=str(session.id),
        gen=record["gen"],
        seq=seq,
        frame_b64=frame_b64,
        received_at=received_at,
        key_frame_request=tasks.key_frame_embed_request,
    )


def _analysed(session: Session) -> tuple[int, str]:
    """(last analysed sequence number, engine state) of the session's current attempt."""
    from apps.sessions.state_store import capture_record_get

    record = capture_record_get(session_id=str(session.id))
    assert record is not None
    return record["seq"], record["state"]


def test_a_stale_frame_from_an_older_attempt_is_skipped(integrator, real_engine):
    session = make_session(integrator.account)
    Session.objects.filter(id=session.id).update(status="in_progress", attempt=1)
    old = services.capture_attempt_reset(session=session)
    new = services.capture_attempt_reset(session=session)
    _analyse(session, old, 1, 1.0)
    assert _analysed(session) == (0, "")  # the engine never saw it
    _analyse(session, new, 1, 1.0)
    seq, state = _analysed(session)
    assert seq == 1 and state
    _analyse(session, new, 1, 1.1)
    assert _analysed(session) == (1, state)  # the repeated sequence number was dropped


def test_a_frame_that_waited_too_long_for_a_worker_is_skipped(integrator, real_engine, settings):
    import time

    session = make_session(integrator.account)
    Session.objects.filter(id=session.id).update(status="in_progress", attempt=1)
    record = services.capture_attempt_reset(session=session)
    now = time.time()
    _analyse(session, record, 1, now - 5)
    first = _analysed(session)
    assert first[0] == 1 and first[1]  # the first frame may wait (model loading)
    _analyse(session, record, 2, now - settings.CAPTURE_STALE_FRAME_SECONDS - 0.5)
    assert _analysed(session) == first
    _analyse(session, record, 3, time.time())
    seq, state = _analysed(session)
    assert seq == 3 and state != first[1]


def test_frame_and_verdict_tasks_go_to_the_frames_queue_with_json_arguments():
    from config.celery import app

    for name in ("apps.sessions.tasks.frame_analyze", "apps.sessions.tasks.session_decide"):
        route = app.amqp.router.route({}, name, args=(), kwargs={})
        assert route["queue"].name == "frames"
    # Key-frame descriptors go to the low-priority "keys" worker, not behind (or ahead of) the frames.
    assert app.amqp.router.route({}, "apps.sessions.tasks.key_frame_embed", args=(), kwargs={})["queue"].name == "keys"
    assert app.conf.task_serializer == "json" and app.conf.accept_content == ["json"]


def test_a_session_stuck_in_analysing_gets_its_verdict_from_the_beat_task(integrator, real_engine, monkeypatch):
    import time

    session = make_session(integrator.account)
    Session.objects.filter(id=session.id).update(status="in_progress", attempt=1)
    record = services.capture_attempt_reset(session=session)
    clip = passive_clip("astronaut", 3.5)
    start = time.time()

    def worker_dies(**kwargs):
        raise SystemExit("worker lost")

    with monkeypatch.context() as patch:
        patch.setattr(frames, "session_decide", worker_dies)  # the decision made in place
        with pytest.raises(SystemExit):
            # A live person holding still, 15 frames a second, until the capture completes.
            for seq, frame in enumerate(clip, start=1):
                _analyse(session, record, seq, start + seq / 15, frame)
    session.refresh_from_db()
    assert session.status == "analysing"
    assert tasks.sessions_expire() == 0
    session.refresh_from_db()
    assert session.status == "analysing"  # too recent to call stuck
    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        tasks.sessions_expire()
    session.refresh_from_db()
    assert session.status == "completed" and session.verification_result == "Pass"


def test_icao_photos_are_deleted_after_the_result_retention(integrator):
    with time_machine.travel(timezone.now() - timedelta(days=8)):
        old = _analysing(make_session(integrator.account))
        services.session_verdict_record(session=old, verdict=_verdict())
    recent = _analysing(make_session(integrator.account))
    services.session_verdict_record(session=recent, verdict=_verdict())
    tasks.sessions_expire()
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.icao_jpeg is None and old.verification_result == "Pass"
    assert recent.icao_jpeg


def _thumbnail_of(session: Session, *, created_ago: timedelta) -> AttemptThumbnail:
    attempt = SessionAttempt.objects.create(session=session, number=1, outcome="fail", ended_at=timezone.now())
    thumb = AttemptThumbnail.objects.create(attempt=attempt, t=0.5, kind="best", jpeg=b"\xff\xd8")
    AttemptThumbnail.objects.filter(id=thumb.id).update(created_at=timezone.now() - created_ago)
    return thumb


def _created(session: Session, *, ago: timedelta) -> Session:
    Session.objects.filter(id=session.id).update(created_at=timezone.now() - ago)
    return session


def test_attempt_thumbnails_go_with_their_session_past_the_result_retention(integrator, settings):
    """A thumbnail is written when its attempt ends: one taken after the boundary, of a session created
    before it, goes too; that of a session created after the boundary stays."""
    boundary = timedelta(days=settings.SESSION_RESULT_RETENTION_DAYS)
    minutes = timedelta(minutes=1)
    _thumbnail_of(_created(make_session(integrator.account), ago=boundary + 180 * minutes), created_ago=boundary)
    across = _created(make_session(integrator.account), ago=boundary + 10 * minutes)
    _thumbnail_of(across, created_ago=boundary - 5 * minutes)  # its attempt ended after the boundary
    young = _created(make_session(integrator.account), ago=boundary - 10 * minutes)
    kept = _thumbnail_of(young, created_ago=boundary - 9 * minutes)

    services.sessions_photos_purge()

    assert list(AttemptThumbnail.objects.values_list("id", flat=True)) == [kept.id]


def test_the_photo_purge_finds_old_thumbnails_and_icao_photos_through_indexes(integrator):
    """Every minute: joined to the sessions, the thumbnail delete read every attempt, and the ICAO update
    every old session (8 ms at 10,000 sessions, 143 ms at 200,000)."""
    _thumbnail_of(make_session(integrator.account), created_ago=timedelta(0))
    with CaptureQueriesContext(connection) as queries:
        services.sessions_photos_purge()

    thumbnails = statements_on(queries.captured_queries, "capture_attemptthumbnail", "DELETE")
    (photos,) = statements_on(queries.captured_queries, "capture_session", "UPDATE")
    plain_index_dropped("capture_session", "created_at")  # the ICAO update must not need the index of every session
    plans = [sql_plan(sql) for sql in [*thumbnails, photos]]
    assert thumbnails and all("capture_attemptthumbnail_created_at" in plan for plan in plans[:-1]), plans
    assert "capture_session_icao_idx" in plans[-1], plans[-1]
    assert not [plan for plan in plans if "Seq Scan" in plan], plans


def test_the_capture_state_is_deleted_once_the_verdict_is_stored(integrator, real_engine):
    from apps.sessions.state_store import capture_record_get

    session = make_session(integrator.account)
    Session.objects.filter(id=session.id).update(status="in_progress", attempt=1)
    record = services.capture_attempt_reset(session=session)
    assert capture_record_get(session_id=str(session.id)) is not None
    Session.objects.filter(id=session.id).update(status="analysing")
    services.session_decide(session_id=str(session.id), gen=record["gen"])
    assert Session.objects.get(id=session.id).status == "completed"
    assert capture_record_get(session_id=str(session.id)) is None
