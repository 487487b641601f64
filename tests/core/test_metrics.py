"""/metrics: off without METRICS_TOKEN, the token required, the Prometheus text format when given."""

from __future__ import annotations

import pytest
from django.test import Client

from .metrics_helpers import parse, value

TOKEN = "metrics-token-for-tests-0123"


def test_metrics_are_off_until_a_token_is_set(db, settings):
    settings.METRICS_TOKEN = ""
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("header", [None, "Bearer wrong-token-0123456789", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_metrics_without_the_token_answer_401_in_the_error_shape(db, settings, header):
    settings.METRICS_TOKEN = TOKEN
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = Client().get("/metrics", **extra)
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
    assert response["WWW-Authenticate"] == "Bearer"


def test_metrics_with_the_token_are_prometheus_text_with_sessions_by_status(integrator, settings):
    from tests.sessions.conftest import make_session

    settings.METRICS_TOKEN = TOKEN
    make_session(integrator.account)
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain; version=")
    families, samples = parse(response.content.decode())
    assert value(samples, "liveproof_sessions", status="created") == 1
    assert value(samples, "liveproof_sessions", status="completed") == 0
    assert {"liveproof_frame_latency_seconds", "liveproof_verdicts", "liveproof_rate_limit_refusals"} <= families
    assert Client().post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 405


def test_the_grafana_dashboard_reads_every_family():
    import json
    from pathlib import Path

    from apps.core import metrics

    dashboard = json.loads((Path(__file__).resolve().parents[2] / "docs" / "grafana-dashboard.json").read_text())
    exprs = " ".join(t["expr"] for panel in dashboard["panels"] for t in panel["targets"])
    names = {m._name for m in vars(metrics).values() if hasattr(m, "_name") and hasattr(m, "_type")}
    names.add("liveproof_sessions")  # the sessions app's scrape-time collector
    assert len(names) == 11
    assert all(name in exprs for name in names), sorted(n for n in names if n not in exprs)
