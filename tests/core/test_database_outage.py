"""With PostgreSQL cut off, /v1/readyz and /metrics still answer within seconds (real server, real outage).

A load balancer's probe and Prometheus's scrape (10 s by default) give up long before the connection pool's
30 s wait for a connection: a readiness probe or scrape that hangs is no answer at all.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from tests.conftest import require_postgres
from tests.served import embedded_env, free_port, serving, wait_until_healthy
from tests.tcp_proxy import tcp_proxy

from .metrics_helpers import parse

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TOKEN = "metrics-token-for-tests-0123"
# Under Prometheus's default scrape timeout (10 s), as a load balancer's probe timeout would be.
PROBE_TIMEOUT_SECONDS = 8


def _get(base: str, path: str) -> tuple[int, str]:
    request = urllib.request.Request(f"{base}{path}", headers={"Authorization": f"Bearer {TOKEN}"})
    try:
        with urllib.request.urlopen(request, timeout=PROBE_TIMEOUT_SECONDS) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode()


def _database_url(port: int) -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@127.0.0.1:{port}/{db['NAME']}"


def test_readyz_and_metrics_answer_within_seconds_when_postgresql_is_cut_off(tmp_path: Path) -> None:
    require_postgres()
    db = connection.settings_dict
    with tcp_proxy((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))) as proxy:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = embedded_env(
            tmp_path / "unused.sqlite3",
            base,
            DATABASE_URL=_database_url(proxy.port),
            METRICS_TOKEN=TOKEN,
            PERIODIC_JOBS_IN_PROCESS="false",
        )
        log = tmp_path / "serve.log"
        with serving(env, port, log) as process:
            wait_until_healthy(process, base, log)
            status, body = _get(base, "/v1/readyz")
            assert '"database":{"ok":true' in body.replace(" ", ""), body
            status, body = _get(base, "/metrics")
            assert status == 200 and "liveproof_sessions" in parse(body)[0]

            proxy.stop()

            # More than once: the first request may only find its pooled connection broken; the next ones wait
            # for a new one.
            for _ in range(3):
                status, body = _get(base, "/v1/readyz")
                assert status == 503 and '"database":{"ok":false' in body.replace(" ", ""), body
                status, body = _get(base, "/metrics")
                families = parse(body)[0]
                assert status == 200 and "liveproof_sessions" not in families
                assert "liveproof_frame_latency_seconds" in families  # only the database's family is missing
