"""``python manage.py periodic_beat``: the Procfile's ``beat``, sending each due periodic job to its queue.

It replaces ``celery beat``, whose local schedule file a restart on a fresh working directory loses: every job
then waits a whole interval again, so a beat restarted daily never sent the daily purges. Here each job's next
run is claimed in the database (``apps.core.periodic``), so restarts keep the schedule, and two of these
processes (a rolling deploy) never send a job twice in one interval.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.core.periodic import periodic_jobs_send_due, periodic_loop


class Command(BaseCommand):
    help = "Send the periodic jobs of CELERY_BEAT_SCHEDULE to their queues when due (schedule kept in the database)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="send what is due now, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            for name in periodic_jobs_send_due():
                self.stdout.write(f"sent {name}")
            return
        stop = threading.Event()
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, lambda *_: stop.set())
        self.stdout.write("periodic_beat: sending due jobs (schedule in the database)")
        periodic_loop(stop, periodic_jobs_send_due)
