"""``python manage.py purge``: run every periodic job once, now (expiry, retention purges, webhook sweep).

For operators who want retention enforced at a moment of their choosing (cron, a
deploy hook, before a backup) and for deployments that run neither Celery beat
nor the in-process scheduler. Every job is idempotent, so running it next to
beat or the scheduler is harmless.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.periodic import periodic_job_run, periodic_jobs


class Command(BaseCommand):
    help = "Run the periodic jobs now: session expiry, retention purges of personal data and files, webhook sweep."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--job", action="append", default=[], help="run only this job (repeatable)")

    def handle(self, *args: Any, **options: Any) -> None:
        jobs = periodic_jobs()
        unknown = set(options["job"]) - {job.name for job in jobs}
        if unknown:
            known = ", ".join(job.name for job in jobs)
            raise CommandError(f"Unknown job(s): {', '.join(sorted(unknown))}; known: {known}")
        failed = []
        for job in jobs:
            if options["job"] and job.name not in options["job"]:
                continue
            try:
                result = periodic_job_run(job=job)
            except Exception as exc:
                failed.append(job.name)
                self.stderr.write(f"{job.name}: failed: {exc}")
                continue
            self.stdout.write(f"{job.name}: {result if result is not None else 'done'}")
        if failed:
            raise CommandError(f"{len(failed)} job(s) failed: {', '.join(failed)}")
