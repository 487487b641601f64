"""Send due webhook deliveries without Celery beat (the embedded default has no beat)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from apps.webhooks.tasks import webhook_deliveries_sweep


class Command(BaseCommand):
    help = "Enqueue (or, with eager tasks, send) webhook deliveries that are due and not in flight."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="Keep sweeping every WEBHOOK_SWEEP_INTERVAL_SECONDS.")

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            count = webhook_deliveries_sweep()
            if count:
                self.stdout.write(f"Swept {count} due webhook delivery(ies).")
            if not options["loop"]:
                return
            time.sleep(float(settings.WEBHOOK_SWEEP_INTERVAL_SECONDS))
