"""Frame -> real Celery worker process on Redis -> channel layer -> socket, and the verdict stored in the DB."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from channels.db import database_sync_to_async as sync_to_async  # closes its DB connection after use
from django.conf import settings
from django.db import connection

from apps.sessions.models import Session
from apps.sessions.tokens import session_token_issue
from tests.conftest import require_redis

from .conftest import PASSIVE, make_session
from .socket_helpers import authed_socket, stream_until
from .synthetic_clips import ScriptedUser, clips

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.postgresql":
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    pytest.skip("the worker process needs a database it can share with the test: set DATABASE_URL to PostgreSQL")
    raise AssertionError


@pytest.fixture
def frame_worker(transactional_db: None) -> Iterator[subprocess.Popen]:
    redis_url = require_redis()
    from config.celery import app

    clips()  # render before any socket opens: rendering would block the event loop

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": redis_url,
        "SECRET_KEY": settings.SECRET_KEY,
    }
    log_path = ROOT / "test-artifacts" / "capture-worker.log"
    log_path.parent.mkdir(exist_ok=True)
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "frames,keys", "-P", "solo", "-l", "info"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not app.control.ping(timeout=0.5):
            assert process.poll() is None, log_path.read_text()[-2000:]
        yield process
    finally:
        app.conf.task_always_eager = eager
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


async def _warm_up(integrator) -> None:
    """One frame through a throwaway session: the worker loads the engine on its first frame."""
    session = await sync_to_async(make_session)(integrator.account, PASSIVE)
    socket, _ = await authed_socket(session.id, session_token_issue(session_id=session.id))
    await stream_until(socket, ScriptedUser(), kind="feedback", timeout=60)
    await socket.disconnect()


async def test_a_worker_process_analyses_frames_and_stores_the_verdict(integrator, frame_worker):
    await _warm_up(integrator)
    # Face recognition on: the key frame's descriptor is needed, so it goes through the "keys" queue.
    verifiers = {**PASSIVE, "faceRecognition": {"type": "CalculationOnly", "collectionId": "worker"}}
    session = await sync_to_async(make_session)(integrator.account, verifiers)
    socket, state = await authed_socket(session.id, session_token_issue(session_id=session.id))
    assert state["status"] == "in_progress"
    user = ScriptedUser(passive_blink=True)
    messages = await stream_until(socket, user, gap=0.105, timeout=30, on_message=user.on_message)
    await socket.disconnect()
    assert any(m["type"] == "feedback" and m["faceCount"] == 1 for m in messages)
    assert messages[-1]["type"] == "result" and messages[-1]["verdict"] == "pass", messages[-1]
    stored = await sync_to_async(Session.objects.get)(id=session.id)
    assert stored.status == "completed" and stored.verification_result == "Pass"
    # The key frame went through the "keys" queue (its worker logged the task) ...
    log = (ROOT / "test-artifacts" / "capture-worker.log").read_text()
    assert re.search(r"Task apps\.sessions\.tasks\.key_frame_embed\[[^\]]+\] succeeded", log), log[-2000:]
    # ... and, being biometric, its embedding left Redis with the rest of the capture at the verdict.
    import redis

    client = redis.Redis.from_url(require_redis())
    left = [key for kind in ("state", "keyemb", "blob") for key in client.keys(f"*capture:{kind}:{session.id}*")]
    assert left == [], left
