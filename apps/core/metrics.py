"""Prometheus metrics (prometheus-client): the families every process counts into, and ``/metrics``.

Processes count locally and cheaply (a few microseconds per observation). With
``PROMETHEUS_MULTIPROC_DIR`` set, prometheus-client's multiprocess mode writes each
process's values to memory-mapped files in that directory, and ``/metrics`` on any web
process of the host adds up every process's files: daphne web processes and the Celery
workers (frames, keys, default) alike. Without it (the embedded default: one process,
in-process tasks) the process's own registry is served. See docs/operations.md#metrics.

Families that are a count of rows rather than of events (sessions by status) are read
from the database at scrape time by collectors the feature apps register here
(:func:`metrics_collector_register`): core imports no feature app.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import REGISTRY, Collector

from .database import database_ping
from .errors import error_response

# Latencies from a few milliseconds (a frame on an idle machine) to seconds (overload, a slow receiver).
_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0)
_LAG = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0, 1800.0, 7200.0, 86400.0)

FRAME_LATENCY = Histogram(
    "liveproof_frame_latency_seconds",
    "A frame's arrival on the capture socket to its feedback going out on that socket (web process).",
    buckets=_LATENCY,
)
FRAME_QUEUE_WAIT = Histogram(
    "liveproof_frame_queue_wait_seconds",
    "A frame handed to the broker to a frames worker starting on it.",
    buckets=_LATENCY,
)
FRAME_STAGE = Histogram(
    "liveproof_frame_stage_seconds",
    "Wall time of each server-side stage of a frame's trip: enqueue, state_load, analysis, state_save, notify "
    "(worker done to the socket's consumer holding the feedback). The wait in the queue has its own family.",
    ["stage"],
    buckets=_LATENCY,
)
VERDICT_LATENCY = Histogram(
    "liveproof_verdict_latency_seconds",
    "The frame that completed a capture arriving on the socket to its verdict being stored.",
    buckets=_LATENCY,
)
VERDICTS = Counter(
    "liveproof_verdicts",
    "Verdicts stored, by result (Pass, Fail, or retry for a retry offered) and reason (none when passed).",
    ["result", "reason"],
)
ENGINE_SECONDS = Histogram(
    "liveproof_engine_seconds",
    "Wall time of one face-engine call, by stage: analyze_frame, decide, key_frame_embed, attempt_evidence.",
    ["stage"],
    buckets=_LATENCY,
)
ENGINE_CPU = Counter(
    "liveproof_engine_cpu_seconds",
    "CPU time (of the calling thread) spent inside the face engine, by stage.",
    ["stage"],
)
WEBHOOK_ATTEMPTS = Counter(
    "liveproof_webhook_attempts",
    "Webhook delivery attempts by outcome: delivered, retrying, failed, or skipped (another worker's).",
    ["outcome"],
)
WEBHOOK_LAG = Histogram(
    "liveproof_webhook_lag_seconds",
    "An event's creation to the start of each delivery attempt of it.",
    buckets=_LAG,
)
RESULTS_FROM_DATABASE = Counter(
    "liveproof_results_read_from_database",
    "Messages a capture socket read from the database because the channel layer had not brought them in time "
    "(CAPTURE_RESULT_CHECK_SECONDS), by message: state, result.",
    ["message"],
)
RATE_LIMIT_REFUSALS = Counter(
    "liveproof_rate_limit_refusals",
    "Requests or connections refused by a rate limit or lockout, by limit.",
    ["limit"],
)

_collectors: list[tuple[Collector, bool]] = []


def metrics_collector_register(collector: Collector, *, reads_database: bool = False) -> None:
    """Add a scrape-time collector (e.g. rows counted in the database) to what ``/metrics`` serves.

    ``reads_database``: its families are left out, at once, of a scrape that finds the database unreachable."""
    _collectors.append((collector, reads_database))


def rate_limit_refused(*, limit: str) -> None:
    """Count one refusal; ``limit`` is the limit's group without a per-account suffix (``verif-submit:7``)."""
    name, _, suffix = limit.rpartition(":")
    RATE_LIMIT_REFUSALS.labels(limit=name if name and suffix.isdigit() else limit).inc()


def admin_login_locked_out(sender: object, **kwargs: object) -> None:
    """django-axes' ``user_locked_out`` signal: an admin login refused by the lockout."""
    rate_limit_refused(limit="admin-login")


class EngineTimer:
    """``with EngineTimer("decide"): ...`` observes the wall time and adds the thread's CPU time of the block."""

    def __init__(self, stage: str) -> None:
        self.stage = stage

    def __enter__(self) -> EngineTimer:
        self.wall, self.cpu = time.perf_counter(), time.thread_time()
        return self

    def __exit__(self, *exc: object) -> None:
        ENGINE_CPU.labels(stage=self.stage).inc(time.thread_time() - self.cpu)
        ENGINE_SECONDS.labels(stage=self.stage).observe(time.perf_counter() - self.wall)


def multiprocess_enabled() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


class _Local:
    """This process's default registry, as a collector of a scrape-time registry."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


class _Safe:
    """A registered collector whose failure (database down) loses its families, not the whole scrape."""

    def __init__(self, collector: Collector) -> None:
        self.collector = collector

    def collect(self) -> Iterator[Metric]:
        try:
            yield from list(self.collector.collect())
        except Exception:  # noqa: S110 - a scrape must still answer with the other families
            pass


def metrics_exposition() -> bytes:
    """The text exposition of every family: all processes' (multiprocess mode) or this one's, plus collectors."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_enabled():
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_Local())
    database_up: bool | None = None
    for collector, reads_database in _collectors:
        if reads_database and database_up is None:
            database_up = _database_answers()
        if database_up is not False or not reads_database:
            registry.register(_Safe(collector))
    return generate_latest(registry)


def _database_answers() -> bool:
    """Whether the database answers within seconds: the pool would keep a scrape waiting 30 s for a connection,
    far past Prometheus's scrape timeout (10 s), and the scrape would lose every family."""
    try:
        database_ping()
        return True
    except Exception:
        return False


def _authorised(request: HttpRequest, token: str) -> bool:
    header = str(request.META.get("HTTP_AUTHORIZATION", ""))
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


@csrf_exempt
@require_safe
def metrics_view(request: HttpRequest) -> HttpResponse:
    """``GET /metrics``: 404 unless METRICS_TOKEN is set, then 401 without ``Authorization: Bearer <token>``."""
    token = str(getattr(settings, "METRICS_TOKEN", "") or "")
    if not token:
        return error_response(404, "not_found", "Not found.")
    if not _authorised(request, token):
        return error_response(
            401, "unauthorized", "Send Authorization: Bearer <METRICS_TOKEN>.", headers={"WWW-Authenticate": "Bearer"}
        )
    return HttpResponse(metrics_exposition(), content_type=CONTENT_TYPE_LATEST)
