"""Scale-out: two web processes and two frames workers on one PostgreSQL and one Redis.

The browser streams to web process A, its socket drops mid-capture, it reconnects with its
resume token to web process B and finishes there: one verdict, one webhook (to a real local
receiver), frames analysed by both frames workers. All processes share one
PROMETHEUS_MULTIPROC_DIR, so either web process's /metrics adds up everyone's counts.

With ``CAPTURE_ANALYSIS=web`` the web processes analyse the frames themselves: web process A
is killed (SIGKILL) mid-capture, and B carries on from the state A saved in Redis.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
import websockets
from channels.db import database_sync_to_async as sync_to_async
from django.conf import settings

from apps.sessions.models import Session
from apps.webhooks.models import WebhookDelivery, WebhookEvent
from tests.conftest import require_postgres, require_redis
from tests.core.metrics_helpers import parse, value
from tests.served import free_port, serving, wait_until_healthy
from tests.webhooks.conftest import Receiver, assert_every_request_verifies

from .synthetic_clips import ScriptedUser, clips
from .test_worker import _database_url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
TOKEN = "scale-out-metrics-token-0123"
WORKERS = {"frames-a": "frames", "frames-b": "frames", "other": "default,webhooks,keys"}


@contextmanager
def _celery(env: dict[str, str], name: str, queues: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queues, "-P", "solo", "-l", "info"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "-n", f"{name}@%h"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            yield process
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture
def cluster(integrator: Any, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Web A and B, frames workers a and b, one worker for the other queues; and a webhook receiver."""
    yield from _cluster(integrator, tmp_path, analysis="worker", workers=WORKERS)


@pytest.fixture
def web_cluster(integrator: Any, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Web A and B analysing frames themselves; one worker for every queue (the recovery sweep's verdicts)."""
    yield from _cluster(integrator, tmp_path, analysis="web", workers={"other": "frames,default,webhooks,keys"})


def _cluster(integrator: Any, tmp_path: Path, *, analysis: str, workers: dict[str, str]) -> Iterator[dict[str, Any]]:
    redis_url = require_redis()
    require_postgres()
    from config.celery import app

    clips()
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    ports = [free_port(), free_port()]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL or redis_url,
        "SECRET_KEY": settings.SECRET_KEY,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{ports[0]}",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "METRICS_TOKEN": TOKEN,
        "ALLOW_HTTP_OUTBOUND": "true",
        "WEBHOOK_ALLOW_LOOPBACK": "true",
        "PERIODIC_JOBS_IN_PROCESS": "false",
        "CAPTURE_ANALYSIS": analysis,
    }
    receiver = Receiver()
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    with ExitStack() as stack:
        stack.callback(receiver.close)
        stack.callback(setattr, app.conf, "task_always_eager", eager)
        logs = {name: tmp_path / f"{name}.log" for name in (*workers, "web-a", "web-b")}
        for name, queues in workers.items():
            stack.enter_context(_celery(env, name, queues, logs[name]))
        bases = []
        for name, port in zip(("web-a", "web-b"), ports, strict=True):
            web = stack.enter_context(serving(env, port, logs[name]))
            bases.append((web, f"http://127.0.0.1:{port}", logs[name]))
        for web, base, log in bases:
            wait_until_healthy(web, base, log, seconds=90)
        deadline = time.monotonic() + 90
        while len(app.control.ping(timeout=1) or []) < len(workers):
            assert time.monotonic() < deadline, "the workers did not start: " + logs["other"].read_text()[-2000:]
        yield {
            "bases": [b for _, b, _ in bases],
            "webs": [w for w, _, _ in bases],
            "receiver": receiver,
            "logs": logs,
            "key": integrator.key,
        }


def _post(base: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{base}/v1/verification/create-session",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"ApiKey {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _scrape(base: str) -> str:
    request = urllib.request.Request(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read().decode()


async def _connect(base: str, session_id: str, token: str) -> tuple[Any, dict[str, Any]]:
    ws = await websockets.connect(f"{base.replace('http', 'ws')}/ws/v1/sessions/{session_id}/", origin=base)
    await ws.send(json.dumps({"type": "auth", "token": token}))
    state = json.loads(await asyncio.wait_for(ws.recv(), 30))
    assert state["type"] == "state", state
    return ws, state


async def _stream(ws: Any, user: ScriptedUser, *, until: Any, timeout: float) -> list[dict[str, Any]]:
    """Frames at 10 fps until ``until(messages)``; every message received."""
    seen: list[dict[str, Any]] = []

    async def sender() -> None:
        while True:
            await ws.send(next(user))
            await asyncio.sleep(0.1)

    task = asyncio.create_task(sender())
    try:
        async with asyncio.timeout(timeout):
            while not until(seen):
                message = json.loads(await ws.recv())
                user.on_message(message)
                seen.append(message)
    finally:
        task.cancel()
    return seen


async def _capture_across(cluster: dict[str, Any], interrupt: Any) -> str:
    """A passive capture started on web A, ``interrupt``-ed mid-capture (A's socket given), finished on web B:
    it passes, with one stored verdict, one webhook event and exactly one delivered, verified webhook."""
    web_a, web_b = cluster["bases"]
    body = {
        "verifierConfigs": {"liveness": {"type": "Verification", "challengeType": "Passive"}},
        "webhookConfig": {"eventCallbackUrl": cluster["receiver"].url},
    }
    created = await asyncio.to_thread(_post, web_a, cluster["key"], body)
    session_id = created["verificationSessionId"]
    user = ScriptedUser(passive_blink=True)

    ws, state = await _connect(web_a, session_id, created["sessionToken"])
    assert state["status"] == "in_progress"
    # Mid-capture: a few frames answered (the analysers load their models first), then the interruption.
    before = await _stream(ws, user, until=lambda s: sum(m["type"] == "feedback" for m in s) >= 3, timeout=90)
    assert not any(m["type"] == "result" for m in before)
    await interrupt(ws)

    ws, state = await _connect(web_b, session_id, state["resumeToken"])
    assert state["status"] == "in_progress" and state["attempt"] == 1, state
    after = await _stream(ws, user, until=lambda s: bool(s) and s[-1]["type"] == "result", timeout=90)
    await ws.close()
    assert after[-1]["verdict"] == "pass", after[-1]
    assert any(m["type"] == "feedback" for m in after)

    stored = await sync_to_async(Session.objects.get)(id=session_id)
    assert stored.status == "completed" and stored.verification_result == "Pass"
    receiver = cluster["receiver"]
    assert await asyncio.to_thread(receiver.arrived.wait, 30), "no webhook arrived"
    await asyncio.sleep(2)  # a duplicate would come now
    assert len(receiver.requests) == 1
    await sync_to_async(assert_every_request_verifies)(receiver)
    assert await sync_to_async(WebhookEvent.objects.filter(session_id=session_id).count)() == 1
    delivery = await sync_to_async(WebhookDelivery.objects.get)(event__session_id=session_id)
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    return session_id


async def test_a_capture_moves_to_another_web_process_and_ends_with_one_verdict_and_one_webhook(cluster):
    async def drop(ws: Any) -> None:
        ws.transport.abort()  # the connection just dies

    await _capture_across(cluster, drop)

    # Both frames workers analysed frames of this capture.
    for name in ("frames-a", "frames-b"):
        log = cluster["logs"][name].read_text()
        assert "apps.sessions.tasks.frame_analyze[" in log and "succeeded" in log, (name, log[-1500:])

    # Each web process serves the whole host's counts: the workers' engine time, verdict and webhook included.
    scraped = [parse(await asyncio.to_thread(_scrape, base))[1] for base in cluster["bases"]]
    for samples in scraped:
        assert value(samples, "liveproof_verdicts_total", result="Pass", reason="none") == 1
        assert value(samples, "liveproof_webhook_attempts_total", outcome="delivered") == 1
        assert value(samples, "liveproof_engine_seconds_count", stage="analyze_frame") >= 3
        assert value(samples, "liveproof_frame_latency_seconds_count") >= 3
        assert value(samples, "liveproof_sessions", status="completed") == 1


async def test_with_web_analysis_a_killed_web_process_loses_nothing(web_cluster):
    web_a = web_cluster["webs"][0]

    async def crash(ws: Any) -> None:
        # Web process A dies as a crash kills it, mid-frame or between frames: no chance to hand anything over.
        os.killpg(web_a.pid, signal.SIGKILL)
        await asyncio.to_thread(web_a.wait, 10)
        ws.transport.abort()

    await _capture_across(web_cluster, crash)

    # No frame went through the frames queue: the web processes analysed them, and B's /metrics counts its work.
    assert "apps.sessions.tasks.frame_analyze[" not in web_cluster["logs"]["other"].read_text()
    samples = parse(await asyncio.to_thread(_scrape, web_cluster["bases"][1]))[1]
    assert value(samples, "liveproof_verdicts_total", result="Pass", reason="none") == 1
    assert value(samples, "liveproof_engine_seconds_count", stage="analyze_frame") >= 3


_LOADED_AT_START = """
import threading
import config.asgi
from apps.core import engine
for thread in threading.enumerate():
    if thread.name == "engine-warm-up":
        thread.join(240)
print(sorted(engine._engines))
"""


@pytest.mark.parametrize(("analysis", "loaded"), [("web", True), ("worker", False)])
def test_a_web_process_that_analyses_frames_loads_the_models_when_it_starts(analysis, loaded, tmp_path):
    """With CAPTURE_ANALYSIS=web the web process loads the face models as it starts, not under the first frame.

    The killed-web-process test above once got ``retry`` on a loaded CI machine: web B loaded the models under
    the resumed session's first frame, the frames queued behind it went stale, and the passive hold ended
    without the blink it had been shown. A process that only hands frames to the workers loads nothing."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        PERIODIC_JOBS_IN_PROCESS="false",
        CAPTURE_ANALYSIS=analysis,
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", _LOADED_AT_START], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    engines = done.stdout.strip().splitlines()[-1]
    assert (engines != "[]") is loaded, engines


@pytest.mark.parametrize(("queues", "loaded"), [("frames", True), ("keys", True), ("default,webhooks", False)])
def test_a_worker_that_runs_the_engine_loads_the_models_when_it_starts(queues, loaded, tmp_path):
    """A frames (or keys) worker process loads the face models as it starts: a restarted or added frames worker
    would otherwise keep the first live session it serves waiting seconds for them, and that session's frames
    go stale (the web-mode failure above, on the worker side). A worker for the other queues loads nothing."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        REDIS_URL=require_redis(),
        PERIODIC_JOBS_IN_PROCESS="false",
    )
    log = tmp_path / "worker.log"

    def seen() -> tuple[bool, bool]:
        text = log.read_text(errors="replace")
        return " ready." in text, "face engine" in text and " loaded in " in text

    with _celery(env, "warm", queues, log):
        deadline = time.monotonic() + 240
        # No task is sent: what loads, loads because the worker started. (The load runs beside the pool's
        # start, so a loaded machine may report ready first: wait for both.)
        while time.monotonic() < deadline and not (seen()[0] and (seen()[1] or not loaded)):
            time.sleep(0.2)
        if not loaded:
            time.sleep(3)  # time enough for a load that should not happen to show
    assert seen() == (True, loaded), log.read_text(errors="replace")[-3000:]
