"""API throughput: create-session, get-session-result and signature validate under concurrent clients.

Starts the processes that answer the API as the Procfile does, with production settings:
``--server api`` (the default) the API process (``python -m config.serve_api``, granian, HTTP
only), ``--server web`` the web process (``python -m config.serve``, daphne, which also serves
the capture sockets); ``--web-processes`` of them on their own ports, the clients spreading over
them as a load balancer would; on ``DATABASE_URL`` and ``REDIS_URL``, then drives each endpoint for
``--seconds`` with ``--concurrency`` clients (keep-alive HTTP/1.1 connections) from ``--client-processes``
processes, and prints requests a second and p50/p95 latency per endpoint. The last line is one
JSON object (``createSessionRps``, ``createSessionP95Ms``, ``getSessionResultRps``, ...). Usage::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/liveproof_bench REDIS_URL=redis://127.0.0.1:6379/6 \\
      .venv/bin/python bench/api.py [--seconds 10] [--concurrency 32] [--web-processes 2] [--server api|web] \\
      [--rate createSession=500 --rate getSessionResult=1000]

By default each client sends its next request when the last one is answered (closed loop): the figure
is the most the server answers at that concurrency. ``--rate ENDPOINT=N`` drives that endpoint open
loop instead: N requests a second on a schedule, each sent on the first free one of the
``--concurrency`` connections, its latency counted from when it was due (a request that waits for a
connection waits in the figure too): the p95 at that load.

The clients run on the same machine as the server: on a small machine they take CPU the
server would otherwise have, so the figures are a floor. Nothing is left running afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import multiprocessing
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.common import cpu_model, free_port, group_cpu, percentile, start, stop  # noqa: E402

PASSIVE = {"verifierConfigs": {"liveness": {"type": "Verification", "challengeType": "Passive"}}}
ENDPOINTS = ("createSession", "getSessionResult", "signatureValidate")
# The Procfile's processes that answer HTTP: module run with ``-b ADDRESS -p PORT``.
SERVERS = {"api": "config.serve_api", "web": "config.serve"}


def setup(env: dict[str, str], results: int) -> dict[str, Any]:
    """Migrate; an API key; ``results`` finished sessions to read back; a signed query string to validate."""
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0, interactive=False)
    from apps.accounts.services import account_get_or_create, api_key_create
    from apps.sessions.models import Session
    from apps.sessions.services import session_create
    from apps.signing.services import signature_create

    account = account_get_or_create(name="API benchmark")
    key = api_key_create(account=account, name="bench").plaintext
    ids = []
    for _ in range(results):
        session = session_create(account=account, body=PASSIVE)
        ids.append(str(session.id))
    # As the verdict leaves them: completed, passed, with scores.
    Session.objects.filter(id__in=ids).update(
        status=Session.Status.COMPLETED, completed_at=timezone.now(), verdict="pass", verification_result="Pass",
        liveness_result="Pass", total_face_count=1, confidence=0.93, scores={"liveness": 0.93}, engine="dlib",
    )  # fmt: skip
    # The hosted-link kind: signature and expiration checked, no nonce (a nonce validates once only).
    signed = signature_create(account=account, query_string="userId=42&plan=gold", expiration_in_seconds=3600)
    return {"key": key, "ids": ids, "signed": signed.signed_query_string}


def client_process(job: dict[str, Any], queue: Any) -> None:
    """One process of clients: ``job['concurrency']`` coroutines for ``job['seconds']``; latencies to ``queue``."""
    queue.put(asyncio.run(_clients(job)))


class Connection:
    """One keep-alive HTTP/1.1 connection, one request at a time: a load generator that costs the machine little.

    An HTTP library client (httpx) spends a few milliseconds of CPU per request, on the cores the server
    under test also runs on; this writes prepared bytes and reads status, headers and body.
    """

    def __init__(self, base: str) -> None:
        host, _, port = base.removeprefix("http://").partition(":")
        self.host, self.port = host, int(port)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        headers = {}
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            body = b""
            while size := int((await self.reader.readuntil(b"\r\n")).strip(), 16):
                body += (await self.reader.readexactly(size + 2))[:-2]
            await self.reader.readuntil(b"\r\n")
        else:
            body = await self.reader.readexactly(int(headers.get(b"content-length", b"0")))
        if headers.get(b"connection", b"").lower() == b"close":
            await self.close()
        return status, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer, self.reader = None, None


def request_bytes(method: str, path: str, key: str, body: dict[str, Any] | None = None) -> bytes:
    payload = json.dumps(body).encode() if body is not None else b""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ApiKey {key}\r\n"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
    return (head + "\r\n").encode() + payload


async def _clients(job: dict[str, Any]) -> dict[str, Any]:
    bases, endpoint, key = job["bases"], job["endpoint"], job["key"]
    ids = itertools.cycle(job["ids"])
    create = request_bytes("POST", "/v1/verification/create-session", key, PASSIVE)
    validate = request_bytes("POST", "/v1/signature/validate", key, {"queryString": job["signed"]})
    latencies: list[float] = []
    errors: dict[str, int] = {}
    stop_at = time.perf_counter() + job["seconds"]

    def raw_next() -> bytes:
        if endpoint == "createSession":
            return create
        if endpoint == "getSessionResult":
            return request_bytes("GET", f"/v1/verification/get-session-result?verificationSessionId={next(ids)}", key)
        return validate

    async def send(connection: Connection, raw: bytes, since: float) -> None:
        status, body = await connection.request(raw)
        latencies.append((time.perf_counter() - since) * 1000)
        if status != 200 or (endpoint == "signatureValidate" and json.loads(body)["result"] != "Valid"):
            errors[str(status)] = errors.get(str(status), 0) + 1

    # Each client sticks to one web process, as a balancer's connection would.
    connections = [Connection(bases[n % len(bases)]) for n in range(job["concurrency"])]
    if job.get("rate"):
        await _open_loop(job["rate"], stop_at, connections, raw_next, send)
        return {"latencies": latencies, "errors": errors}

    async def one(connection: Connection) -> None:
        while time.perf_counter() < stop_at:
            await send(connection, raw_next(), time.perf_counter())
        await connection.close()

    await asyncio.gather(*(one(connection) for connection in connections))
    return {"latencies": latencies, "errors": errors}


async def _open_loop(
    rate: float,
    stop_at: float,
    connections: list[Connection],
    raw_next: Callable[[], bytes],
    send: Callable[[Connection, bytes, float], Awaitable[None]],
) -> None:
    """``rate`` requests a second until ``stop_at``, each on the first free connection, timed from when it was due."""
    free: asyncio.Queue[Connection] = asyncio.Queue()
    for connection in connections:
        free.put_nowait(connection)

    async def due(at: float) -> None:
        connection = await free.get()
        try:
            await send(connection, raw_next(), at)
        finally:
            free.put_nowait(connection)

    tasks = []
    first, n = time.perf_counter(), 0
    while (at := first + n / rate) < stop_at:
        wait = at - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        tasks.append(asyncio.create_task(due(at)))
        n += 1
    await asyncio.gather(*tasks)
    for connection in connections:
        await connection.close()


def drive(job: dict[str, Any], processes: int) -> dict[str, Any]:
    """Run ``processes`` client processes on one endpoint; requests a second and latency percentiles."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    share = {**job, "concurrency": max(1, job["concurrency"] // processes)}
    if job.get("rate"):
        share["rate"] = job["rate"] / processes
    workers = [context.Process(target=client_process, args=(share, queue)) for _ in range(processes)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    parts = [queue.get() for _ in workers]
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    latencies = [ms for part in parts for ms in part["latencies"]]
    errors: dict[str, int] = {}
    for part in parts:
        for code, count in part["errors"].items():
            errors[code] = errors.get(code, 0) + count
    # Requests over the driving window only (process start-up is outside it: each client measures its own).
    return {
        "requests": len(latencies),
        "rps": round(len(latencies) / job["seconds"], 1),
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "errors": errors,
        "wall": round(elapsed, 1),
    }


def wait_healthy(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base}/v1/healthz", timeout=1)
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the web process did not start; see {log}") from None
            time.sleep(0.2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="driving time per endpoint")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent clients per endpoint (all processes)")
    parser.add_argument("--web-processes", type=int, default=2, help="server processes (one per core)")
    parser.add_argument(
        "--server",
        choices=sorted(SERVERS),
        default="api",
        help="api: the API process (granian, HTTP only); web: the web process (daphne, HTTP and sockets)",
    )
    parser.add_argument("--client-processes", type=int, default=1, help="processes the clients run in")
    parser.add_argument(
        "--endpoints", default=",".join(ENDPOINTS), help="comma-separated subset of " + ",".join(ENDPOINTS)
    )
    parser.add_argument(
        "--rate",
        action="append",
        default=[],
        metavar="ENDPOINT=N",
        help="drive ENDPOINT at N requests a second on a schedule (open loop) instead of as fast as answered",
    )
    args = parser.parse_args()
    try:
        rates = {name: float(value) for name, _, value in (item.partition("=") for item in args.rate)}
    except ValueError:
        parser.error("--rate takes ENDPOINT=N, N a number")
    if set(rates) - set(ENDPOINTS) or any(value <= 0 for value in rates.values()):
        parser.error("--rate takes ENDPOINT=N: one of " + ",".join(ENDPOINTS) + ", N above 0")
    database_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if not database_url or not redis_url:
        print(
            "Set DATABASE_URL (PostgreSQL) and REDIS_URL: the benchmark runs the production processes.", file=sys.stderr
        )
        return 2
    var = ROOT / "var"
    var.mkdir(exist_ok=True)
    ports = [free_port() for _ in range(args.web_processes)]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1",
        "PUBLIC_BASE_URL": bases[0],
        # Plain HTTP on loopback stands for the TLS-terminating proxy in front (docs/operations.md).
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
        # A benchmark's clients all come from 127.0.0.1: failed-authentication limits stay out of the way.
        "API_AUTH_FAILURES_PER_ADDRESS": "1000000/10m",
    }
    print("setting up (migrate, API key, finished sessions)…", flush=True)
    data = setup(env, results=1000)
    webs = [
        start(
            [sys.executable, "-m", SERVERS[args.server], "-b", "127.0.0.1", "-p", str(port)],
            env,
            var / f"bench-api-{port}.log",
        )
        for port in ports
    ]
    rows: dict[str, dict[str, Any]] = {}
    try:
        for web, base, port in zip(webs, bases, ports, strict=True):
            wait_healthy(base, web, var / f"bench-api-{port}.log")
        job = {"bases": bases, "key": data["key"], "ids": data["ids"], "signed": data["signed"]}
        for endpoint in args.endpoints.split(","):
            # Warm every process's connections and caches first, outside the measurement.
            drive({**job, "endpoint": endpoint, "seconds": 1.0, "concurrency": args.concurrency}, args.client_processes)
            cpu_before = group_cpu({web.pid for web in webs})
            row = drive(
                {
                    **job,
                    "endpoint": endpoint,
                    "seconds": args.seconds,
                    "concurrency": args.concurrency,
                    "rate": rates.get(endpoint),
                },
                args.client_processes,
            )
            # The web processes' own CPU per request: what the server costs, whatever else shares the cores.
            cpu_s = group_cpu({web.pid for web in webs}) - cpu_before
            row["cpuMs"] = round(cpu_s * 1000 / row["requests"], 2) if row["requests"] else None
            row["rate"] = rates.get(endpoint)
            rows[endpoint] = row
            scheduled = f" (scheduled {row['rate']})" if row["rate"] else ""
            print(
                f"{endpoint:>18}: {row['rps']:>7} req/s{scheduled}, p50 {row['p50']} ms, p95 {row['p95']} ms, "
                f"server CPU {row['cpuMs']} ms/request ({row['requests']} requests, errors {row['errors'] or 'none'})",
                flush=True,
            )
    finally:
        for web in webs:
            stop(web)
    summary: dict[str, Any] = {
        "server": f"{args.server} ({SERVERS[args.server]})",
        "webProcesses": args.web_processes,
        "concurrency": args.concurrency,
        "clientProcesses": args.client_processes,
        "seconds": args.seconds,
        "cpu": cpu_model(),
        "loadAverage": round(os.getloadavg()[0], 2),
    }
    for endpoint, row in rows.items():
        summary[f"{endpoint}Rps"] = row["rps"]
        summary[f"{endpoint}P50Ms"] = row["p50"]
        summary[f"{endpoint}P95Ms"] = row["p95"]
        summary[f"{endpoint}ServerCpuMs"] = row["cpuMs"]
        summary[f"{endpoint}Errors"] = sum(row["errors"].values())
        if row["rate"]:
            summary[f"{endpoint}ScheduledRps"] = row["rate"]
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
