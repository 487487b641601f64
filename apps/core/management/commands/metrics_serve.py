"""``python manage.py metrics_serve``: this host's multiprocess metrics on a port of their own.

For a host that runs Celery workers but no web process: its workers count into the host's
PROMETHEUS_MULTIPROC_DIR, and nothing else would serve those files. No token: bind it to an
address only Prometheus reaches (default 127.0.0.1). See docs/operations.md#metrics.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from prometheus_client import CollectorRegistry, multiprocess, start_http_server

from apps.core.metrics import multiprocess_enabled


class Command(BaseCommand):
    help = "Serve this host's PROMETHEUS_MULTIPROC_DIR metrics over HTTP (hosts with workers but no web process)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=9108, help="port (default 9108)")

    def handle(self, *args: Any, **options: Any) -> None:
        if not multiprocess_enabled():
            raise CommandError("Set PROMETHEUS_MULTIPROC_DIR: this command serves the files the workers write there.")
        registry = CollectorRegistry(auto_describe=False)
        multiprocess.MultiProcessCollector(registry)
        server, thread = start_http_server(options["port"], addr=options["bind"], registry=registry)
        self.stdout.write(f"Serving metrics on http://{options['bind']}:{options['port']}/metrics")
        try:
            thread.join()
        except KeyboardInterrupt:
            server.shutdown()
