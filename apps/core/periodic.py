"""Periodic jobs, scheduled in the database.

``CELERY_BEAT_SCHEDULE`` is the one list of periodic jobs (session expiry,
retention purges, the webhook sweep). Where Celery workers exist, ``manage.py
periodic_beat`` (the Procfile's ``beat``) sends each due job to its queue; the
embedded default has no workers, so its ASGI process runs the same jobs in a
daemon thread instead (``PERIODIC_JOBS_IN_PROCESS``), and ``manage.py purge``
runs them all once on demand. Runs are claimed in the database, so several
processes sharing one database never start a job twice in one interval, and a
restart (a new container, a fresh working directory) neither resets a job's
schedule nor postpones it: Celery's own beat keeps the last runs in a local
file, and a beat restarted daily on a fresh one never reached its daily jobs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from celery import Task, current_app
from django.conf import settings
from django.db import DatabaseError, close_old_connections
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from .models import PeriodicJobRun

logger = logging.getLogger(__name__)

# How often the scheduler thread looks for due jobs; the shortest job interval is 15 s.
_TICK_SECONDS = 1.0
_started = False
_start_lock = threading.Lock()


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    task: str
    interval: timedelta
    options: dict[str, Any] = field(default_factory=dict)  # the entry's apply_async options (queue, expires)


def _interval(schedule: Any) -> timedelta | None:
    if isinstance(schedule, timedelta):
        return schedule
    if isinstance(schedule, int | float):
        return timedelta(seconds=float(schedule))
    return None  # crontab-like schedules need beat


def periodic_jobs() -> list[PeriodicJob]:
    """The jobs of ``CELERY_BEAT_SCHEDULE`` (every entry is a fixed interval)."""
    jobs = []
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        interval = _interval(entry["schedule"])
        if interval is None:
            logger.warning("Periodic job %s has no fixed interval; only Celery beat runs it", name)
            continue
        options = dict(entry.get("options") or {})
        jobs.append(PeriodicJob(name=name, task=str(entry["task"]), interval=interval, options=options))
    return jobs


def periodic_job_claim(*, job: PeriodicJob, now: datetime) -> bool:
    """Whether this process may run ``job`` now; moves its next run one interval ahead if so."""
    PeriodicJobRun.objects.get_or_create(name=job.name, defaults={"next_run_at": now})
    claimed = PeriodicJobRun.objects.filter(name=job.name, next_run_at__lte=now).update(
        next_run_at=now + job.interval, last_started_at=now
    )
    return claimed == 1


def _task(name: str) -> Task:
    # Tasks register when their module is imported; the web process imports them lazily.
    current_app.loader.import_default_modules()
    return current_app.tasks[name]


def periodic_job_run(*, job: PeriodicJob) -> Any:
    """Run ``job``'s task in this process (its own ``.delay()`` calls follow CELERY_TASK_ALWAYS_EAGER)."""
    error = ""
    try:
        return _task(job.task)()
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
        raise
    finally:
        PeriodicJobRun.objects.filter(name=job.name).update(last_finished_at=timezone.now(), last_error=error)


def periodic_task_finished(*, task_name: str, failed: str = "") -> None:
    """Record the end of a periodic job's task run by a Celery worker (``config/celery.py``'s ``task_postrun``):
    the beat only sends jobs, so without this nothing showed that a purge stopped running (no worker for its
    queue, or a task failing every time). Any run of the task counts, whoever sent it: it did the job's work."""
    names = [name for name, entry in settings.CELERY_BEAT_SCHEDULE.items() if entry["task"] == task_name]
    if names:
        PeriodicJobRun.objects.filter(name__in=names).update(last_finished_at=timezone.now(), last_error=failed[:500])


def periodic_jobs_run_due(*, now: datetime | None = None) -> list[str]:
    """Run every job whose interval has passed and that no other process claimed; returns their names."""
    ran = []
    for job in periodic_jobs():
        if not periodic_job_claim(job=job, now=now or timezone.now()):
            continue
        try:
            periodic_job_run(job=job)
        except Exception:  # one failing job must not stop the others, nor the scheduler
            logger.exception("Periodic job %s failed", job.name)
        ran.append(job.name)
    return ran


def periodic_jobs_send_due(*, now: datetime | None = None) -> list[str]:
    """Send every job whose interval has passed and that no other process claimed to its queue (the Procfile's
    ``beat``); returns their names. A job that could not be sent (broker down) is due again at the next tick."""
    sent = []
    for job in periodic_jobs():
        moment = now or timezone.now()
        if not periodic_job_claim(job=job, now=moment):
            continue
        try:
            _task(job.task).apply_async(**job.options)
        except Exception:
            logger.exception("Periodic job %s could not be sent; trying again", job.name)
            PeriodicJobRun.objects.filter(name=job.name).update(next_run_at=moment)
            continue
        sent.append(job.name)
    return sent


def periodic_loop(stop: threading.Event, due: Callable[[], Any] = periodic_jobs_run_due) -> None:
    """Every tick until ``stop``: ``due()``, which runs or sends the due jobs."""
    while not stop.wait(_TICK_SECONDS):
        close_old_connections()
        try:
            due()
        except DatabaseError:  # e.g. a locked SQLite file or migrations not applied yet: next tick
            logger.warning("Periodic jobs could not be claimed", exc_info=True)
        finally:
            close_old_connections()


def periodic_scheduler_start() -> bool:
    """Start the in-process scheduler thread once per process; False when it already runs."""
    global _started
    with _start_lock:
        if _started:
            return False
        _started = True
    threading.Thread(target=periodic_loop, args=(threading.Event(),), name="periodic-jobs", daemon=True).start()
    return True


class PeriodicJobCollector:
    """``liveproof_periodic_job_last_finished_timestamp_seconds{job}`` and ``liveproof_periodic_job_failing{job}``,
    read at scrape time: an alert on a purge that stopped running or fails (docs/operations.md)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        finished = GaugeMetricFamily(
            "liveproof_periodic_job_last_finished_timestamp_seconds",
            "When each periodic job last finished (Unix time; jobs that never finished are left out).",
            labels=["job"],
        )
        failing = GaugeMetricFamily(
            "liveproof_periodic_job_failing", "1 when a periodic job's last run failed, else 0.", labels=["job"]
        )
        runs = {run.name: run for run in PeriodicJobRun.objects.filter(name__in=list(settings.CELERY_BEAT_SCHEDULE))}
        for name in sorted(settings.CELERY_BEAT_SCHEDULE):
            run = runs.get(name)
            if run is not None and run.last_finished_at is not None:
                finished.add_metric([name], run.last_finished_at.timestamp())
            failing.add_metric([name], 1 if run is not None and run.last_error else 0)
        yield finished
        yield failing
