"""Rows shared by every area: when each periodic job may run next."""

from __future__ import annotations

from django.db import models


class PeriodicJobRun(models.Model):
    """One periodic job (a ``CELERY_BEAT_SCHEDULE`` entry): its schedule, claimed by scheduler or beat; its last run.

    Every process that runs the scheduler claims a run with one conditional UPDATE
    of ``next_run_at``, so the job starts at most once per interval however many
    processes (daphne workers, a ``runserver`` next to a ``daphne``) share the database.
    """

    name = models.CharField(max_length=100, primary_key=True)
    next_run_at = models.DateTimeField()
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return self.name
