"""Retention on every deployment mode: personal fields, files and cached frames go after their window.

In-process tests use the test database and cache (PostgreSQL and Redis in CI) and run
``manage.py purge``; the embedded-default test starts daphne exactly as ``scripts/run``
does (SQLite, no Redis, no beat, no command) and waits for its own scheduler.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.models import PeriodicJobRun
from apps.core.periodic import PeriodicJob, periodic_job_claim, periodic_jobs, periodic_jobs_run_due
from apps.sessions import retention, state_store
from apps.sessions.models import Session, UsedSessionToken
from apps.sessions.retention import PERSONAL_FIELDS_CLEARED
from apps.sessions.services import capture_attempt_reset, session_connect, session_expire
from apps.sessions.state_store import capture_record_get, capture_record_put, key_embedding_put, key_embeddings_get
from apps.sessions.tokens import session_token_issue
from tests.conftest import require_redis
from tests.core import retention_data
from tests.query_plans import plain_index_dropped, sql_plan, statements_on
from tests.served import embedded_env, free_port, manage, migrate, serving

# Session columns that stay after SESSION_RETENTION_DAYS, each for a reason an operator can check.
KEPT_FOR_AGGREGATES = {
    "id", "account", "verification_id", "config", "status", "mode", "challenges", "attempt", "max_attempts",
    "attempt_started_at", "created_at", "expires_at", "started_at", "completed_at", "verdict",
    "verification_result", "verification_failed_reasons", "liveness_result", "age_result", "gender_result",
    "face_recognition_result", "total_face_count", "engine", "model_versions", "personal_data_purged_at",
    "minor", "risk_signals", "webhook_format",
}  # fmt: skip


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


def test_every_session_column_is_either_cleared_or_kept_on_purpose():
    columns = {field.name for field in Session._meta.concrete_fields}
    assert columns == KEPT_FOR_AGGREGATES | set(PERSONAL_FIELDS_CLEARED)
    assert not KEPT_FOR_AGGREGATES & set(PERSONAL_FIELDS_CLEARED)


ATTEMPT_KEPT_FOR_AGGREGATES = {
    "id", "session", "number", "outcome", "reasons", "started_at", "ended_at", "challenges", "frames", "engine",
}  # fmt: skip


def test_every_attempt_column_is_either_cleared_or_kept_on_purpose():
    from apps.sessions.models import SessionAttempt
    from apps.sessions.retention import ATTEMPT_PERSONAL_FIELDS_CLEARED

    columns = {field.name for field in SessionAttempt._meta.concrete_fields}
    assert columns == ATTEMPT_KEPT_FOR_AGGREGATES | set(ATTEMPT_PERSONAL_FIELDS_CLEARED)


@pytest.mark.django_db
def test_purge_removes_every_personal_field_and_file_past_its_window_and_keeps_the_aggregates():
    seeded = retention_data.seed()
    assert retention_data.problems(seeded) != []  # the seed really holds personal data

    call_command("purge", stdout=open(os.devnull, "w"))

    assert retention_data.problems(seeded) == []


@pytest.mark.django_db
def test_a_second_purge_changes_nothing():
    seeded = retention_data.seed()
    call_command("purge", stdout=open(os.devnull, "w"))
    purged_at = Session.objects.get(id=seeded["old"]).personal_data_purged_at

    call_command("purge", stdout=open(os.devnull, "w"))

    assert Session.objects.get(id=seeded["old"]).personal_data_purged_at == purged_at
    assert retention_data.problems(seeded) == []


@pytest.mark.django_db
def test_purge_clears_the_urls_a_session_was_created_with(integrator):
    """A per-session redirect or callback URL can carry the person (``?email=…``); the frozen config kept them
    for good, and the console showed them, after every personal field was cleared."""
    from apps.sessions.services import session_create

    body = {
        "verifierConfigs": {"liveness": {"type": "Verification", "challengeType": "Passive"}},
        "redirectConfig": {"passedUrl": "https://shop.example/ok?email=alice%40example.com"},
        "webhookConfig": {"eventCallbackUrl": "https://hooks.example.com/lp?user=alice"},
    }
    integrator.account.allowed_redirect_origins = ["https://shop.example"]
    integrator.account.save(update_fields=["allowed_redirect_origins"])
    session = session_create(account=integrator.account, body=body)
    Session.objects.filter(id=session.id).update(created_at=timezone.now() - timedelta(days=31))
    call_command("purge", stdout=open(os.devnull, "w"))
    session.refresh_from_db()
    assert "alice" not in json.dumps(session.config), session.config
    assert session.config["verifierConfigs"]["liveness"]["challengeType"] == "Passive"  # the aggregates stay
    assert session.typed_config.redirect.passed_url is None and session.typed_config.webhook.event_callback_url is None


@pytest.mark.django_db
def test_a_session_younger_than_its_window_keeps_its_personal_fields(settings):
    settings.SESSION_RETENTION_DAYS = 40
    seeded = retention_data.seed()

    call_command("purge", stdout=open(os.devnull, "w"))

    old = Session.objects.get(id=seeded["old"])
    assert old.external_id == "customer-4711" and old.estimated_age == 34.5
    assert old.personal_data_purged_at is None


def _old_sessions(account: Any, count: int) -> list[Session]:
    past = timezone.now() - timedelta(days=31)
    sessions = [Session(account=account, expires_at=past, external_id=f"customer-{i}") for i in range(count)]
    Session.objects.bulk_create(sessions)
    Session.objects.filter(id__in=[s.id for s in sessions]).update(created_at=past)
    return sessions


@pytest.mark.django_db
def test_the_personal_data_purge_clears_a_backlog_in_bounded_transactions(integrator, monkeypatch):
    """A first run after an outage cleared every old session in one transaction, holding all their locks."""
    monkeypatch.setattr(retention, "PURGE_BATCH", 2)
    _old_sessions(integrator.account, 5)
    with CaptureQueriesContext(connection) as queries:
        assert retention.sessions_personal_data_purge() == 5

    clears = [q for q in statements_on(queries.captured_queries, "capture_session", "UPDATE") if "external_id" in q]
    assert len(clears) == 3
    assert not Session.objects.filter(personal_data_purged_at__isnull=True).exists()
    assert set(Session.objects.values_list("external_id", flat=True)) == {None}


@pytest.mark.django_db
def test_the_personal_data_purge_reads_only_sessions_not_yet_cleared_through_an_index(integrator):
    """Hourly: it read every session four times (every old one, each run, forever) even with nothing left."""
    (session,) = _old_sessions(integrator.account, 1)
    UsedSessionToken.objects.create(jti="spent", session=session)
    with CaptureQueriesContext(connection) as queries:
        retention.sessions_personal_data_purge()

    statements = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(("SELECT", "UPDATE", "DELETE"))]
    plain_index_dropped("capture_session", "created_at")  # the index of every session's created_at
    plans = [sql_plan(sql) for sql in statements]
    assert "capture_session_unpurged_idx" in plans[0], plans[0]
    assert not [plan for plan in plans if "Seq Scan" in plan], plans  # no statement reads a whole table
    assert not UsedSessionToken.objects.exists()


@pytest.mark.django_db
def test_frames_and_face_crops_in_the_cache_go_when_the_session_expires(integrator):
    session = Session.objects.create(
        account=integrator.account, config={}, expires_at=timezone.now() + timedelta(minutes=30)
    )
    session_connect(session_id=str(session.id), token=session_token_issue(session_id=session.id))
    record = capture_attempt_reset(session=Session.objects.get(id=session.id))
    # What a worker leaves in the cache mid-capture: the best frame and a key frame's face crop, and its embedding.
    # The best frame is stored apart from the record (``capture_record_put`` with its blobs), the crop inline.
    record["state"] = json.dumps({"best": {"t": 0.4, "ref": "b1"}, "keys": [{"t": 1.2, "jpeg": "/9j/4AAR"}]})
    capture_record_put(session_id=str(session.id), record=record, blobs={"b1": b"\xff\xd8\xff\xe0best"})
    assert cache.get(f"capture:blob:{session.id}:b1") == b"\xff\xd8\xff\xe0best"
    key_embedding_put(session_id=str(session.id), gen=record["gen"], t=1.2, value={"embedding": [0.1], "spoof": 0.0})
    assert key_embeddings_get(session_id=str(session.id), gen=record["gen"], times=[1.2])
    Session.objects.filter(id=session.id).update(expires_at=timezone.now() - timedelta(seconds=1))

    call_command("purge", "--job", "capture-sessions-expire", stdout=open(os.devnull, "w"))

    assert Session.objects.get(id=session.id).status == Session.Status.EXPIRED
    assert capture_record_get(session_id=str(session.id)) is None
    assert key_embeddings_get(session_id=str(session.id), gen=record["gen"], times=[1.2]) == {}
    assert cache.get(f"capture:keyemb:{session.id}:1") is None
    assert cache.get(f"capture:keyemb:{session.id}:n") is None
    assert cache.get(f"capture:blob:{session.id}:b1") is None


@pytest.mark.django_db
def test_an_embedding_stored_while_the_session_ends_does_not_outlive_it(integrator, monkeypatch):
    require_redis()
    session = Session.objects.create(
        account=integrator.account, config={}, expires_at=timezone.now() + timedelta(minutes=30)
    )
    sid = str(session.id)
    session_connect(session_id=sid, token=session_token_issue(session_id=session.id))
    record = capture_attempt_reset(session=Session.objects.get(id=session.id))
    key_embedding_put(session_id=sid, gen=record["gen"], t=1.0, value={"embedding": [0.1], "spoof": 0.0})
    counted = state_store._slot_keys

    def keys_worker_lands_in_between(session_id: str, *kinds: str) -> list[str]:
        keys = counted(session_id, *kinds)  # the ending session has counted the slots ...
        key_embedding_put(session_id=sid, gen=record["gen"], t=2.0, value={"embedding": [0.2], "spoof": 0.0})
        return keys  # ... and the keys worker has stored one more

    monkeypatch.setattr(state_store, "_slot_keys", keys_worker_lands_in_between)
    assert session_expire(session_id=sid)
    monkeypatch.undo()
    assert capture_record_get(session_id=sid) is None
    assert cache.get(f"capture:keyemb:{sid}:1") is None and cache.get(f"capture:keyemb:{sid}:2") is None
    assert cache.get(f"capture:keyemb:{sid}:n") is None


@pytest.mark.django_db
def test_purge_names_an_unknown_job():
    with pytest.raises(CommandError, match="Unknown job"):
        call_command("purge", "--job", "nope")


@pytest.mark.django_db
def test_every_beat_job_is_run_by_the_in_process_scheduler(settings):
    assert {job.name for job in periodic_jobs()} == set(settings.CELERY_BEAT_SCHEDULE)
    assert {"capture-sessions-retention", "faces-verif-files-purge", "webhooks-purge"} <= set(
        settings.CELERY_BEAT_SCHEDULE
    )

    ran = periodic_jobs_run_due()

    assert set(ran) == set(settings.CELERY_BEAT_SCHEDULE)
    assert periodic_jobs_run_due() == []  # nothing is due again before its interval
    runs = PeriodicJobRun.objects.all()
    assert all(run.last_finished_at and not run.last_error for run in runs)


@pytest.mark.django_db
def test_a_job_runs_again_once_its_interval_has_passed():
    job = PeriodicJob(name="probe", task="apps.signing.tasks.used_nonces_purge", interval=timedelta(minutes=5))
    now = timezone.now()

    assert periodic_job_claim(job=job, now=now)
    assert not periodic_job_claim(job=job, now=now + timedelta(minutes=4))
    assert periodic_job_claim(job=job, now=now + timedelta(minutes=5))


@pytest.mark.django_db(transaction=True)
def test_processes_racing_for_a_job_start_it_once():
    job = PeriodicJob(name="race", task="apps.signing.tasks.used_nonces_purge", interval=timedelta(minutes=1))
    now = timezone.now()
    PeriodicJobRun.objects.create(name=job.name, next_run_at=now)
    barrier = threading.Barrier(6)
    wins: list[bool] = []

    def claim() -> None:
        barrier.wait()
        try:
            wins.append(periodic_job_claim(job=job, now=now))
        finally:
            connection.close()

    threads = [threading.Thread(target=claim) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(wins) == [False] * 5 + [True]


# --- the embedded default, as scripts/run starts it ----------------------------------------------


def _shell(env: dict[str, str], code: str) -> str:
    return manage(env, "shell", "-c", code).strip().splitlines()[-1]


def _jobs_finished(database: Path) -> int:
    with sqlite3.connect(database, timeout=20) as db:
        query = "SELECT COUNT(*) FROM core_periodicjobrun WHERE last_finished_at IS NOT NULL"
        return int(db.execute(query).fetchone()[0])


@pytest.mark.slow
def test_the_embedded_default_purges_on_its_own_without_beat_or_a_command(tmp_path, settings):
    database = tmp_path / "embedded.sqlite3"
    port = free_port()
    env = embedded_env(
        database, f"http://127.0.0.1:{port}", drop=("PERIODIC_JOBS_IN_PROCESS",), MEDIA_ROOT=str(tmp_path / "media")
    )
    migrate(env)
    seed = "import json; from tests.core import retention_data as r; print(json.dumps(r.seed()))"
    seeded = json.loads(_shell(env, seed))
    assert all((tmp_path / "media" / path).exists() for path in seeded["files"])

    with serving(env, port, tmp_path / "daphne.log") as process:
        # No request, no command: the scheduler starts with the process.
        deadline = time.monotonic() + 90
        while _jobs_finished(database) < len(settings.CELERY_BEAT_SCHEDULE):
            assert process.poll() is None, (tmp_path / "daphne.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the embedded default never ran its periodic jobs"
            time.sleep(0.5)

    check = f"import json; from tests.core import retention_data as r; print(json.dumps(r.problems({seeded!r})))"
    assert json.loads(_shell(env, check)) == []
