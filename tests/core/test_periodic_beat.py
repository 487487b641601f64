"""The Procfile's ``beat`` (``manage.py periodic_beat``): due jobs go to their queues, on a schedule kept in the
database, so a restarted beat neither resets nor postpones a job (Celery's beat kept it in a local file)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.app.task import Task
from django.core.management import call_command
from django.utils import timezone

from apps.core.models import PeriodicJobRun
from apps.core.periodic import periodic_jobs_send_due

pytestmark = pytest.mark.django_db

DAILY = ["webhooks-purge", "audit-events-purge", "accounts-admin-login-logs-purge"]


@pytest.fixture
def broker(monkeypatch) -> list[tuple[str, dict]]:
    """What would reach the broker (the one thing that leaves the process): task name and options."""
    sent: list[tuple[str, dict]] = []

    def apply_async(task: Task, args=None, kwargs=None, **options):
        sent.append((task.name, options))

    monkeypatch.setattr(Task, "apply_async", apply_async)
    return sent


def test_every_job_goes_to_its_queue_and_a_restart_keeps_the_schedule(broker, settings):
    start = timezone.now()
    first = periodic_jobs_send_due(now=start)
    assert set(first) == set(settings.CELERY_BEAT_SCHEDULE)  # a new deployment runs every job at once
    options = {name: opts for name, opts in broker}
    sweep = settings.CELERY_BEAT_SCHEDULE["webhooks-sweep"]
    assert options[sweep["task"]] == sweep["options"]  # the queue and expiry of the entry
    # A beat restarted every 23 hours: nothing about the schedule lives in the process, so each start
    # continues it and the daily purges are still sent once a day.
    sent_daily = []
    for hours in (23, 46, 69, 92):
        sent_daily += [name for name in periodic_jobs_send_due(now=start + timedelta(hours=hours)) if name in DAILY]
    assert sorted(sent_daily) == sorted(DAILY * 2)  # at 46 h (due since 24 h) and at 92 h (due since 70 h)


def test_a_job_that_could_not_be_sent_is_due_again_at_the_next_tick(monkeypatch, broker):
    now = timezone.now()
    failing = {"apps.webhooks.tasks.webhook_events_purge"}

    def apply_async(task: Task, args=None, kwargs=None, **options):
        if task.name in failing:
            raise ConnectionError("broker down")
        broker.append((task.name, options))

    monkeypatch.setattr(Task, "apply_async", apply_async)
    assert "webhooks-purge" not in periodic_jobs_send_due(now=now)
    assert PeriodicJobRun.objects.get(name="webhooks-purge").next_run_at == now
    failing.clear()
    assert periodic_jobs_send_due(now=now + timedelta(seconds=1)) == ["webhooks-purge"]


def test_the_command_sends_what_is_due_once(broker, capsys):
    call_command("periodic_beat", "--once")
    assert "sent webhooks-purge" in capsys.readouterr().out
    call_command("periodic_beat", "--once")
    assert "webhooks-purge" not in capsys.readouterr().out
