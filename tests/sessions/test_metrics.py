"""/metrics after a real session: frames through the real engine, the verdict, its webhook and a refused request.

Every family the operations guide lists must have moved: frame latency and queue wait, the frame's stages,
verdict latency, sessions by status, verdicts by result and reason, engine time per stage, webhook attempts
and lag, rate-limit refusals. The process's own registry is scraped (the embedded mode: eager tasks); the
scale-out test (test_scale_out.py) scrapes the multiprocess one of real web and worker processes.
"""

from __future__ import annotations

import uuid

import pytest
from channels.db import database_sync_to_async as sync_to_async
from django.test import Client
from rest_framework.test import APIClient

from apps.sessions.tokens import session_token_issue
from tests.core.metrics_helpers import parse, value
from tests.webhooks.conftest import Receiver

from .conftest import PASSIVE, make_session
from .socket_helpers import authed_socket, stream_until
from .synthetic_clips import ScriptedUser

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("real_engine"), pytest.mark.slow]
TOKEN = "metrics-token-for-tests-0123"


def _scrape() -> str:
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    return response.content.decode()


def _refuse_one_authentication() -> None:
    """Two wrong secrets for one fresh key prefix, against a limit of one: the second is refused (429)."""
    client = APIClient()
    prefix = f"lp_sk_{uuid.uuid4().hex[:12]}"
    statuses = []
    for n in range(2):
        client.credentials(HTTP_AUTHORIZATION=f"ApiKey {prefix}_wrong{n}")
        statuses.append(client.get("/v1/verification/get-all").status_code)
    assert statuses == [401, 429]


async def test_every_metric_family_moves_after_a_real_session(integrator, settings):
    settings.METRICS_TOKEN = TOKEN
    settings.CAPTURE_FRAME_TIMINGS = True
    settings.ALLOW_HTTP_OUTBOUND = True
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    settings.API_AUTH_FAILURES_PER_KEY = "1/10m"
    receiver = Receiver()
    try:
        _, before = parse(await sync_to_async(_scrape)())
        body = {"webhookConfig": {"eventCallbackUrl": receiver.url}}
        session = await sync_to_async(make_session)(integrator.account, PASSIVE, **body)
        socket, _ = await authed_socket(session.id, session_token_issue(session_id=session.id))
        user = ScriptedUser(passive_blink=True)
        messages = await stream_until(socket, user, gap=0.105, timeout=30, on_message=user.on_message)
        await socket.disconnect()
        assert messages[-1]["type"] == "result" and messages[-1]["verdict"] == "pass", messages[-1]
        assert receiver.arrived.wait(10), "the webhook never arrived"
        await sync_to_async(_refuse_one_authentication)()
        families, after = parse(await sync_to_async(_scrape)())
    finally:
        receiver.close()

    # The feedback carried its frame's marks, in the order of the trip.
    timed = [m["timings"] for m in messages if m["type"] == "feedback" and "timings" in m]
    assert timed, "no feedback carried timings"
    marks = ["received", "enqueued", "started", "loaded", "analysed", "saved", "delivered", "sent"]
    assert all([t[k] for k in marks] == sorted(t[k] for k in marks) for t in timed), timed[0]

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("liveproof_frame_latency_seconds_count") >= len(timed)
    assert moved("liveproof_frame_queue_wait_seconds_count") >= len(timed)
    for stage in ("enqueue", "state_load", "analysis", "state_save", "notify"):
        assert moved("liveproof_frame_stage_seconds_count", stage=stage) >= len(timed), stage
    assert moved("liveproof_verdict_latency_seconds_count") == 1
    assert value(after, "liveproof_sessions", status="completed") == 1
    assert moved("liveproof_verdicts_total", result="Pass", reason="none") == 1
    assert moved("liveproof_engine_seconds_count", stage="analyze_frame") >= len(timed)
    assert moved("liveproof_engine_seconds_count", stage="decide") == 1
    assert moved("liveproof_engine_cpu_seconds_total", stage="analyze_frame") > 0
    assert moved("liveproof_webhook_attempts_total", outcome="delivered") == 1
    assert moved("liveproof_webhook_lag_seconds_count") == 1
    assert moved("liveproof_rate_limit_refusals_total", limit="api-auth-failures:key") >= 1
    expected = {
        "liveproof_frame_latency_seconds", "liveproof_frame_queue_wait_seconds", "liveproof_frame_stage_seconds",
        "liveproof_verdict_latency_seconds", "liveproof_sessions", "liveproof_verdicts", "liveproof_engine_seconds",
        "liveproof_engine_cpu_seconds", "liveproof_webhook_attempts", "liveproof_webhook_lag_seconds",
        "liveproof_rate_limit_refusals",
    }  # fmt: skip
    assert expected <= families, expected - families
