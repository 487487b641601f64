"""/metrics: off without METRICS_TOKEN, the token required, the Prometheus text format when given."""

from __future__ import annotations

import ast
import re
from pathlib import Path

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


def test_metrics_say_when_each_periodic_job_last_finished_and_whether_it_fails(db, settings):
    from django.utils import timezone

    from apps.core.models import PeriodicJobRun

    settings.METRICS_TOKEN = TOKEN
    finished = timezone.now()
    PeriodicJobRun.objects.create(name="webhooks-purge", next_run_at=finished, last_finished_at=finished)
    PeriodicJobRun.objects.create(
        name="capture-sessions-expire", next_run_at=finished, last_finished_at=finished, last_error="FAILURE: boom"
    )
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    _, samples = parse(response.content.decode())
    last = "liveproof_periodic_job_last_finished_timestamp_seconds"
    assert value(samples, last, job="webhooks-purge") == pytest.approx(finished.timestamp())
    assert value(samples, "liveproof_periodic_job_failing", job="webhooks-purge") == 0
    assert value(samples, "liveproof_periodic_job_failing", job="capture-sessions-expire") == 1
    assert value(samples, "liveproof_periodic_job_failing", job="audit-events-purge") == 0  # never ran
    assert (last, frozenset({("job", "audit-events-purge")})) not in samples


def test_the_grafana_dashboard_reads_every_family():
    import json

    from apps.core import metrics

    dashboard = json.loads((Path(__file__).resolve().parents[2] / "docs" / "grafana-dashboard.json").read_text())
    exprs = " ".join(t["expr"] for panel in dashboard["panels"] for t in panel["targets"])
    names = {m._name for m in vars(metrics).values() if hasattr(m, "_name") and hasattr(m, "_type")}
    names.add("liveproof_sessions")  # the sessions app's scrape-time collector
    names |= {"liveproof_periodic_job_last_finished_timestamp_seconds", "liveproof_periodic_job_failing"}  # core's
    assert len(names) == 14
    assert all(name in exprs for name in names), sorted(n for n in names if n not in exprs)


def _documented_labels(family: str) -> set[str]:
    """The label values the metrics table of docs/operations.md lists for ``family``."""
    docs = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    [row] = [line for line in docs.splitlines() if line.startswith(f"| `{family}` |")]
    return set(re.findall(r"`([^`]+)`", row.split("|")[3])) - {"stage", "limit", "outcome", "status"}


def _emitted_in_code() -> dict[str, set[str]]:
    """Label values written as literals in apps/: rate-limit groups (a group built by an f-string as its
    constant prefix + "*"), EngineTimer stages and frame-stage labels."""
    found: dict[str, set[str]] = {"limit": set(), "engine": set(), "frame": set()}
    for path in (Path(__file__).resolve().parents[2] / "apps").rglob("*.py"):
        tree = ast.parse(path.read_text())
        constants = {
            target.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for call in (node for node in ast.walk(tree) if isinstance(node, ast.Call)):
            name = getattr(call.func, "id", getattr(call.func, "attr", ""))
            if name == "EngineTimer" and isinstance(call.args[0], ast.Constant):
                found["engine"].add(call.args[0].value)
            for keyword in call.keywords:
                value = keyword.value
                if isinstance(value, ast.Name) and isinstance(constants.get(value.id), str):
                    value = ast.Constant(constants[value.id])
                if name == "labels" and keyword.arg == "stage" and isinstance(value, ast.Constant):
                    found["frame"].add(value.value)
                if name not in ("rate_limit_count", "rate_limit_refused", "_limited"):
                    continue
                if keyword.arg in ("group", "limit") and isinstance(value, ast.Constant):
                    found["limit"].add(value.value)
                elif keyword.arg in ("group", "limit") and isinstance(value, ast.JoinedStr):
                    found["limit"].add(str(getattr(value.values[0], "value", "")).rstrip(":") + "*")
    return found


def _help_list(help_text: str) -> set[str]:
    """``a, b, c`` in a help text ending ``...: a, b, c (...)`` or ``...: a, b, c.``."""
    return set(help_text.rpartition(": ")[2].split(" (")[0].split(". ")[0].rstrip(".").split(", "))


def test_the_metrics_table_lists_every_label_value_the_code_emits():
    from apps.accounts.authentication import FAILURES_BY_ADDRESS, FAILURES_BY_KEY
    from apps.core import metrics
    from apps.sessions.frame_timing import WORKER_STAGES

    emitted = _emitted_in_code()
    limits = _documented_labels("liveproof_rate_limit_refusals_total")
    # The failed-authentication limits reach rate_limit_count through a list, not as a literal argument.
    exact = {limit for limit in emitted["limit"] if not limit.endswith("*")} | {FAILURES_BY_ADDRESS, FAILURES_BY_KEY}
    prefixes = {limit[:-1] for limit in emitted["limit"] if limit.endswith("*")}
    assert exact <= limits, sorted(exact - limits)
    assert all(any(doc.startswith(prefix) for doc in limits) for prefix in prefixes), sorted(prefixes)
    assert all(doc in exact or doc.startswith(tuple(prefixes)) for doc in limits), limits  # nothing stale
    assert {"admin-login", "capture-admission", "ilive-captcha-challenges", "api-auth-failures:key"} <= exact

    engine = _documented_labels("liveproof_engine_seconds")
    assert engine == emitted["engine"] == _help_list(metrics.ENGINE_SECONDS._documentation)
    frame = _documented_labels("liveproof_frame_stage_seconds")
    assert frame == {*WORKER_STAGES, *emitted["frame"]} == _help_list(metrics.FRAME_STAGE._documentation)
