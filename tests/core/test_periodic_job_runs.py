"""A periodic job run by a Celery worker records its end and its error (before, only the in-process scheduler
did, so a purge that beat sent but no worker ran, or that failed every time, showed nothing anywhere)."""

from __future__ import annotations

import pytest
from celery import current_app
from django.contrib.auth import get_user_model
from django.test import Client

from apps.core.models import PeriodicJobRun
from apps.core.periodic import periodic_jobs_send_due

pytestmark = pytest.mark.django_db

EXPIRE = "capture-sessions-expire"


def _task(name: str):
    current_app.loader.import_default_modules()
    return current_app.tasks[name]


def test_a_job_run_through_celery_records_its_finish_and_its_error(settings, monkeypatch):
    monkeypatch.setattr(current_app.Task, "apply_async", lambda *a, **k: None)  # beat's send leaves the process
    periodic_jobs_send_due()
    job = PeriodicJobRun.objects.get(name=EXPIRE)
    assert job.last_started_at is not None and job.last_finished_at is None
    task = _task(settings.CELERY_BEAT_SCHEDULE[EXPIRE]["task"])
    assert task.apply().successful()  # Celery's own tracer, as in a worker: its task_postrun signal fires
    job.refresh_from_db()
    assert job.last_finished_at is not None and job.last_error == ""
    finished = job.last_finished_at
    assert not task.apply(args=["unexpected"], throw=False).successful()  # a run that fails
    job.refresh_from_db()
    assert job.last_finished_at >= finished and job.last_error.startswith("FAILURE: TypeError")
    # Other tasks record nothing.
    assert not PeriodicJobRun.objects.exclude(name=EXPIRE).exclude(last_finished_at=None).exists()


def test_the_admin_lists_the_jobs_read_only():
    PeriodicJobRun.objects.create(name=EXPIRE, next_run_at="2026-01-01T00:00:00Z", last_error="FAILURE: boom")
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw-long-enough-1")
    client = Client()
    client.force_login(admin)
    page = client.get("/admin/core/periodicjobrun/")
    assert page.status_code == 200 and b"FAILURE: boom" in page.content
    assert client.get("/admin/core/periodicjobrun/add/").status_code == 403
