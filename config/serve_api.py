"""``python -m config.serve_api [-b ADDRESS] [-p PORT] [--proxy-headers]``: the API process, HTTP only.

The web process (``config.serve``, daphne) serves everything: HTTP and the capture sockets. Its HTTP costs more
CPU a request than granian's (an HTTP server written in Rust), and each of its requests hops from the event loop
to a thread. This process serves the same Django code (``config.wsgi_api``) over WSGI on granian's own threads,
HTTP only (bench/api.py, docs/benchmarks.md). A deployment that wants the API's throughput runs it beside the web
process and has its load balancer send WebSocket upgrades to the web process and every other request here
(docs/operations.md, "The API process").

It shares its state with the web processes through PostgreSQL and Redis, so it refuses to start without
``REDIS_URL``: on the embedded default its cache, rate limits and channel layer would be its own.
"""

from __future__ import annotations

import argparse
import os
import sys

from granian import Granian
from granian.constants import Interfaces

APPLICATION = "config.wsgi_api:application"


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m config.serve_api", description=__doc__.split("\n\n")[0])
    parser.add_argument("-b", "--bind", default="127.0.0.1", help="address to listen on")
    parser.add_argument("-p", "--port", type=int, default=8001, help="port to listen on")
    parser.add_argument(
        "--proxy-headers",
        action="store_true",
        help="trust the X-Forwarded-For entry the proxy in front appended (as config.serve's option)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = arguments(sys.argv[1:] if argv is None else argv)
    if args.proxy_headers:
        os.environ["PROXY_HEADERS"] = "true"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    # Settings only: Django itself is set up in granian's worker process (config.wsgi_api), not before the fork.
    from django.conf import settings

    if not settings.REDIS_URL:
        sys.exit(
            "config.serve_api needs REDIS_URL (and PostgreSQL): without Redis its cache, rate limits and channel "
            "layer would not be the web process's. On the embedded default, the web process serves the API."
        )
    Granian(
        APPLICATION,
        address=args.bind,
        port=args.port,
        interface=Interfaces.WSGI,
        # The threads that run requests (API_THREADS): a request waits for one.
        blocking_threads=settings.API_THREADS,
        workers=1,
        # A worker that does not stop in time is killed (API_WORKER_STOP_SECONDS): granian would wait forever.
        workers_kill_timeout=settings.API_WORKER_STOP_SECONDS,
        websockets=False,
        log_level=settings.LOG_LEVEL.lower(),  # type: ignore[arg-type]
    ).serve()


if __name__ == "__main__":
    main()
