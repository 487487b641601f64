"""Load benchmark of the session flow through the real stack.

Starts daphne (the ASGI app, through ``python -m config.serve`` as the Procfile does), one Celery worker with
2 processes on the ``frames`` queue and, as the Procfile does, one niced process on the ``keys``
queue (key-frame descriptors), all on Redis (broker, channel layer, cache), then runs N
simulated browsers (the ``websockets`` library) per round, N = 1, 5, 10, 20 by
default. Each client creates a session with the API, authenticates on the
capture socket and streams synthetic JPEG frames (a live face, passive mode) at
10 fps until the result arrives, paced as the hosted page paces them: a frame
is sent only when the previous one was answered (or a second has passed), so
a busy server gets fewer frames per session rather than frames it would drop
(``--blind``: every frame, as the page did before). ``--analysis web`` runs the frames
in the web processes instead (``CAPTURE_ANALYSIS``; two daphne processes by default,
the clients spread over them, and one Celery process for the frames queue's other tasks).

Reported per N:

* feedback latency: frame sent -> its ``feedback`` message (p50/p95, ms);
* verdict latency: the frame that completed the capture was sent -> ``result``
  message (p50/p95, ms);
* frames sent/answered, passes, errors;
* where a frame's time goes: the share of each stage of its trip (socket receive,
  enqueue, queue wait, state load, analysis, state save, notify, socket send), from the
  timestamps each frame carries (``CAPTURE_FRAME_TIMINGS`` echoes them in its feedback;
  apps/sessions/frame_timing.py), summed over the round's answered frames;
* the CPU ratio: CPU time of the whole server side (the web process, the workers and
  the Redis server, read from /proc and Redis ``INFO cpu``) over the CPU time spent
  inside the face engine (``liveproof_engine_cpu_seconds_total`` from ``/metrics``,
  the processes sharing one PROMETHEUS_MULTIPROC_DIR), both measured over the same round.

``--steady SECONDS`` replaces the round's burst (N clients starting together) with a steady load: N users
each starting a new session as soon as the last one ended, their first starts spread over about one session;
only the sessions started in the SECONDS after that ramp are counted.

The last lines are one JSON object per N. Usage::

    REDIS_URL=redis://127.0.0.1:6379/6 .venv/bin/python bench/sessions.py [--clients 1,5,10,20]

``DATABASE_URL`` defaults to a SQLite file under var/ (PostgreSQL recommended
for realistic figures). Nothing is left running afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.common import free_port, group_cpu, percentile, start, stop  # noqa: E402

FPS = 10
BLIND = False  # --blind: clients send every frame, as the hosted page did before it paced itself
ORIGIN = ""  # the Origin header of the clients' sockets (PUBLIC_BASE_URL); empty: the server they connect to
# The stages of a frame's trip, each from one mark to the next (apps/sessions/frame_timing.py); "sentByClient" and
# "gotByClient" are the benchmark client's own clock (same machine).
STAGES = {
    "socketReceive": ("sentByClient", "received"),
    "enqueue": ("received", "enqueued"),
    "queueWait": ("enqueued", "started"),
    "stateLoad": ("started", "loaded"),
    "analysis": ("loaded", "analysed"),
    "stateSave": ("analysed", "saved"),
    "notify": ("saved", "delivered"),
    "socketSend": ("delivered", "gotByClient"),
}


def render_frames() -> list[bytes]:
    from tests.face_engine import synthetic

    actor = synthetic.FaceActor("astronaut", fps=FPS, seed=11)
    frames = actor.hold(1.0)
    for _ in range(4):
        frames += actor.act("blink") + actor.hold(0.6)
    return [synthetic.encode_jpeg(f, quality=85) for f in frames]


def setup_django(env: dict[str, str]) -> str:
    """Migrate, and return a fresh API key of the benchmark account."""
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from apps.accounts.services import account_get_or_create, api_key_create

    return api_key_create(account=account_get_or_create(name="Benchmark"), name="bench").plaintext


PASSIVE = {"liveness": {"type": "Verification", "challengeType": "Passive"}}
# --face-recognition: each session also embeds the face and stores it in a collection (one more descriptor).
WITH_FACE_RECOGNITION = {**PASSIVE, "faceRecognition": {"type": "CalculationOnly", "collectionId": "bench"}}


async def run_client(
    base: str, ws_base: str, key: str, frames: list[bytes], out: dict[str, Any], verifiers: dict[str, Any]
) -> None:
    import httpx
    import websockets

    asked = time.perf_counter()
    async with httpx.AsyncClient(timeout=30) as http:
        while True:
            created = await http.post(
                f"{base}/v1/verification/create-session",
                headers={"Authorization": f"ApiKey {key}"},
                json={"verifierConfigs": verifiers},
            )
            if created.status_code != 503:
                break
            # Admission control (CAPTURE_MAX_ACTIVE): the service is full, come back when it says.
            out["refused"] += 1
            await asyncio.sleep(float(created.headers["Retry-After"]))
    created.raise_for_status()
    out["admissionWait"].append(time.perf_counter() - asked)
    body = created.json()
    sent: dict[int, float] = {}
    sent_wall: dict[int, float] = {}
    last_frame = 0
    answered = [0]  # the last frame answered, shared with the sender
    complete_frame = 0
    async with websockets.connect(
        f"{ws_base}/ws/v1/sessions/{body['verificationSessionId']}/",
        origin=ORIGIN or base,
        max_size=2**20,
    ) as ws:
        await ws.send(json.dumps({"type": "auth", "token": body["sessionToken"]}))
        state = json.loads(await ws.recv())
        if state.get("type") != "state":
            out["errors"] += 1
            return

        async def sender() -> None:
            # Real cameras are not phase-locked: the clients of a round all start at once, so each waits a random
            # part of a frame interval first, or every round would send its frames in bursts of N at the same instant.
            await asyncio.sleep(random.uniform(0, 1 / FPS))
            seq, tick = 0, 0
            while True:
                tick += 1  # the camera's clock: the clip goes on whether or not a frame is sent
                # As the hosted page does: one frame unanswered at a time, at most a second's wait (--blind: every one).
                if BLIND or seq - answered[0] < 1 or time.perf_counter() - sent.get(seq, 0.0) >= 1.0:
                    seq += 1
                    sent[seq] = time.perf_counter()
                    sent_wall[seq] = time.time()
                    await ws.send(frames[(tick - 1) % len(frames)])
                    out["sent"] += 1
                await asyncio.sleep(1 / FPS)

        task = asyncio.create_task(sender())
        try:
            async for raw in ws:
                got = time.time()
                message = json.loads(raw)
                now = time.perf_counter()
                kind = message["type"]
                if kind == "feedback" and "frame" in message:
                    last_frame = message["frame"]
                    answered[0] = max(answered[0], last_frame)
                    out["answered"] += 1
                    out["feedback"].append((now - sent[last_frame]) * 1000)
                    if "timings" in message:
                        marks = {**message["timings"], "sentByClient": sent_wall[last_frame], "gotByClient": got}
                        for stage, (start, end) in STAGES.items():
                            out["stages"][stage] += max(marks[end] - marks[start], 0.0)
                elif kind == "state" and message["status"] == "analysing":
                    task.cancel()
                    complete_frame = last_frame
                elif kind == "result":
                    task.cancel()
                    if complete_frame:
                        out["verdict"].append((now - sent[complete_frame]) * 1000)
                    out["passes"] += message["verdict"] == "pass"
                    out["sessionSeconds"].append(time.perf_counter() - asked)
                    if message["verdict"] != "pass":
                        out["notPassed"].append(f"{message['verdict']}:{'+'.join(message.get('reasons') or []) or '-'}")
                    break
                elif kind == "error" and message["code"] != "notCapturing":
                    # notCapturing is the benign race of a frame sent just before "analysing" arrived.
                    out["errors"] += 1
                    out["errorKinds"].append(message["code"])
        finally:
            task.cancel()


async def run_round(
    n: int,
    servers: list[tuple[str, str]],
    key: str,
    frames: list[bytes],
    verifiers: dict[str, Any] = PASSIVE,
    watched: Watched | None = None,
    steady: float = 0.0,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "sent": 0, "answered": 0, "passes": 0, "errors": 0, "feedback": [], "verdict": [], "errorKinds": [],
        "notPassed": [], "stages": dict.fromkeys(STAGES, 0.0), "refused": 0, "admissionWait": [],
        "sessionSeconds": [], "sessions": 0,
    }  # fmt: skip
    started = time.perf_counter()
    cpu_before = server_cpu_seconds(watched) if watched else None
    if steady:
        results = await _steady_slots(n, servers, key, frames, out, verifiers, steady)
    else:
        # A burst: the N clients start together, so their captures end, and their verdicts fall due, together.
        results = await asyncio.gather(
            # The clients spread over the web processes, as a load balancer would spread them.
            *(run_client(*servers[i % len(servers)], key, frames, out, verifiers) for i in range(n)),
            return_exceptions=True,
        )
        out["sessions"] = n
    cpu_after = server_cpu_seconds(watched) if watched else None
    out["errors"] += sum(isinstance(r, BaseException) for r in results)
    out["errorKinds"] += [type(r).__name__ for r in results if isinstance(r, BaseException)]
    return {
        "clients": n,
        "arrivals": f"steady {steady:g} s" if steady else "burst",
        "sessions": out["sessions"],
        "feedbackP50Ms": percentile(out["feedback"], 50),
        "feedbackP95Ms": percentile(out["feedback"], 95),
        "verdictP50Ms": percentile(out["verdict"], 50),
        "verdictP95Ms": percentile(out["verdict"], 95),
        "framesSent": out["sent"],
        "framesAnswered": out["answered"],
        "passes": out["passes"],
        "errors": out["errors"],
        "errorKinds": sorted(set(out["errorKinds"])),
        "notPassed": dict(Counter(out["notPassed"])),
        "seconds": round(time.perf_counter() - started, 1),
        # Admission control: 503s answered to create-session, and create-session -> admitted / -> result.
        "admissionRefusals": out["refused"],
        "admissionWaitP95S": percentile(out["admissionWait"], 95),
        "sessionSecondsP95": percentile(out["sessionSeconds"], 95),
        **stage_figures(out["stages"], out["answered"]),
        **cpu_figures(cpu_before, cpu_after),
    }


RAMP_SECONDS = 4.0  # about one passive session (create, connect, a 3 s hold, the verdict)


async def _steady_slots(
    n: int,
    servers: list[tuple[str, str]],
    key: str,
    frames: list[bytes],
    out: dict[str, Any],
    verifiers: dict[str, Any],
    seconds: float,
) -> list[Any]:
    """N users, each starting a new session as soon as the last one ended, their first starts spread over
    RAMP_SECONDS: N captures run at every moment, at every phase. Only sessions started in the ``seconds``
    after the ramp are counted; the slots go on starting sessions for another RAMP_SECONDS, so every counted
    session ran among N others from its start to its end."""
    start = time.perf_counter()
    counted_from, counted_until = start + RAMP_SECONDS, start + RAMP_SECONDS + seconds
    out["sessions"] = 0

    async def slot(i: int) -> None:
        await asyncio.sleep(i * RAMP_SECONDS / n)
        while (now := time.perf_counter()) < counted_until + RAMP_SECONDS:
            counted = counted_from <= now < counted_until
            target = out if counted else _scratch(out)
            out["sessions"] += counted
            await run_client(*servers[i % len(servers)], key, frames, target, verifiers)

    return await asyncio.gather(*(slot(i) for i in range(n)), return_exceptions=True)


def _scratch(out: dict[str, Any]) -> dict[str, Any]:
    """An empty copy of a round's tallies, for the sessions that make load but are not counted."""
    return {
        k: ([] if isinstance(v, list) else dict.fromkeys(v, 0.0) if isinstance(v, dict) else 0) for k, v in out.items()
    }


def stage_figures(stages: dict[str, float], answered: int) -> dict[str, Any]:
    total = sum(stages.values())
    if not total or not answered:
        return {"stageShares": None, "stageMeanMs": None}
    return {
        "stageShares": {stage: round(seconds / total, 3) for stage, seconds in stages.items()},
        "stageMeanMs": {stage: round(seconds / answered * 1000, 2) for stage, seconds in stages.items()},
    }


class Watched:
    """What the CPU ratio reads: the server's process groups, the Redis server, and /metrics."""

    def __init__(self, groups: dict[str, int], redis_url: str, metrics_url: str, token: str) -> None:
        self.groups, self.redis_url, self.metrics_url, self.token = groups, redis_url, metrics_url, token


def _engine_cpu(watched: Watched) -> dict[str, float]:
    from prometheus_client.parser import text_string_to_metric_families

    request = urllib.request.Request(watched.metrics_url, headers={"Authorization": f"Bearer {watched.token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode()
    by_stage: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name == "liveproof_engine_cpu_seconds":
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    stage = sample.labels.get("stage", "")
                    by_stage[stage] = by_stage.get(stage, 0.0) + sample.value
    return by_stage


def server_cpu_seconds(watched: Watched) -> dict[str, Any]:
    import redis

    info = redis.Redis.from_url(watched.redis_url).info("cpu")
    return {
        "processes": {name: group_cpu({group}) for name, group in watched.groups.items()},
        "redis": float(info["used_cpu_sys"]) + float(info["used_cpu_user"]),
        "engine": _engine_cpu(watched),
    }


def cpu_figures(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    if before is None or after is None:
        return {}
    by_process = {name: round(after["processes"][name] - before["processes"][name], 2) for name in after["processes"]}
    path = sum(by_process.values()) + (after["redis"] - before["redis"])
    by_stage = {
        stage: round(seconds - before["engine"].get(stage, 0.0), 2) for stage, seconds in after["engine"].items()
    }
    engine = sum(by_stage.values())
    return {
        "serverCpuS": round(path, 2),
        "redisCpuS": round(after["redis"] - before["redis"], 2),
        "serverCpuByProcessS": by_process,
        "engineCpuS": round(engine, 2),
        "engineCpuByStageS": by_stage,
        "cpuRatio": round(path / engine, 2) if engine > 0 else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="1,5,10,20", help="comma-separated N values")
    parser.add_argument("--worker-processes", type=int, default=2, help="frames worker processes (web: 1)")
    parser.add_argument(
        "--analysis", choices=("worker", "web"), default="worker", help="CAPTURE_ANALYSIS: where frames are analysed"
    )
    parser.add_argument("--web-processes", type=int, default=0, help="web processes (default: 1, web analysis: 2)")
    parser.add_argument("--key-workers", type=int, default=1, help="niced processes on the keys queue (0: none)")
    parser.add_argument("--face-recognition", action="store_true", help="sessions also embed and store the face")
    parser.add_argument("--max-active", type=int, default=0, help="CAPTURE_MAX_ACTIVE, admission control (0: off)")
    parser.add_argument("--blind", action="store_true", help="clients send every frame, unanswered or not")
    parser.add_argument(
        "--steady",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="N users back to back for SECONDS, their starts spread out (default 0: the N clients start together)",
    )
    args = parser.parse_args()
    global BLIND, ORIGIN
    BLIND = args.blind
    verifiers = WITH_FACE_RECOGNITION if args.face_recognition else PASSIVE
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        print("Set REDIS_URL (e.g. redis://127.0.0.1:6379/6): the benchmark runs the real stack.", file=sys.stderr)
        return 2
    var = ROOT / "var"
    var.mkdir(exist_ok=True)
    web_processes = args.web_processes or (2 if args.analysis == "web" else 1)
    worker_processes = 1 if args.analysis == "web" else args.worker_processes
    ports = [free_port() for _ in range(web_processes)]
    servers = [(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}") for port in ports]
    base = servers[0][0]
    ORIGIN = base  # the page's origin (PUBLIC_BASE_URL) whichever web process a socket reaches
    metrics_dir = tempfile.mkdtemp(prefix="liveproof-bench-metrics-")
    token = os.urandom(16).hex()
    env = {
        **os.environ,
        "CAPTURE_FRAME_TIMINGS": "true",
        "PROMETHEUS_MULTIPROC_DIR": metrics_dir,
        "METRICS_TOKEN": token,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{var / 'bench.sqlite3'}"),
        "REDIS_URL": redis_url,
        "PUBLIC_BASE_URL": base,
        "LOG_LEVEL": "WARNING",
        "CAPTURE_MAX_ACTIVE": str(args.max_active),
        "CAPTURE_ANALYSIS": args.analysis,
    }
    key = setup_django(env)
    print("rendering synthetic frames…", flush=True)
    frames = render_frames()
    python = sys.executable
    webs = [
        start([python, "-m", "config.serve", "-b", "127.0.0.1", "-p", str(port)], env, var / f"bench-daphne-{i}.log")
        for i, port in enumerate(ports)
    ]
    # With web analysis the frames queue only carries the recovery sweep's verdicts and continuous checks.
    worker = start([python, "-m", "celery", "-A", "config", "worker", "-Q", "frames,default", "-l", "warning",
                    "-c", str(worker_processes), "-O", "fair"], env, var / "bench-worker.log")  # fmt: skip
    # As the Procfile runs it: key-frame descriptors at a lower CPU priority than the frames.
    keys = None
    if args.key_workers:
        command = ["nice", "-n", "10", python, "-m", "celery", "-A", "config", "worker", "-Q", "keys",
                   "-l", "warning", "-c", str(args.key_workers), "-n", "keys@%h"]  # fmt: skip
        keys = start(command, env, var / "bench-keys.log")
    rows: list[dict[str, Any]] = []
    try:
        from config.celery import app

        deadline = time.monotonic() + 60
        while len(app.control.ping(timeout=1) or []) < 1 + bool(keys):
            if time.monotonic() > deadline:
                raise RuntimeError("the worker did not start; see var/bench-worker.log")
        print("warming up the engines…", flush=True)
        # Each analysing process loads the models on its first frame: enough sessions to reach all of them.
        analysers = web_processes if args.analysis == "web" else worker_processes
        asyncio.run(run_round(3 * analysers, servers, key, frames, verifiers))
        named = {**{f"web{i}": web for i, web in enumerate(webs)}, "frames": worker, "keys": keys}
        groups = {name: p.pid for name, p in named.items() if p is not None}
        watched = Watched(groups, redis_url, f"{base}/metrics", token)
        for n in (int(x) for x in args.clients.split(",")):
            row = asyncio.run(run_round(n, servers, key, frames, verifiers, watched, args.steady))
            rows.append(row)
            print(
                f"N={n:>2} ({row['arrivals']}): feedback p50 {row['feedbackP50Ms']} ms, p95 {row['feedbackP95Ms']} ms; "
                f"verdict p50 {row['verdictP50Ms']} ms, p95 {row['verdictP95Ms']} ms; "
                f"{row['framesAnswered']}/{row['framesSent']} frames answered, "
                f"{row['passes']}/{row['sessions']} passed, {row['errors']} errors, {row['seconds']} s",
                flush=True,
            )
            if row["admissionRefusals"]:
                admission = f"{row['admissionRefusals']} refusals (503), wait p95 {row['admissionWaitP95S']} s"
                print(f"      admission: {admission}, session p95 {row['sessionSecondsP95']} s", flush=True)
            if row["notPassed"]:
                print(f"      not passed: {row['notPassed']}", flush=True)
            if row["stageShares"]:
                shares = ", ".join(f"{stage} {share:.0%}" for stage, share in row["stageShares"].items())
                print(f"      where a frame's time goes: {shares}", flush=True)
            print(
                f"      CPU: server {row.get('serverCpuS')} s (Redis {row.get('redisCpuS')} s, "
                f"{row.get('serverCpuByProcessS')}), "
                f"engine {row.get('engineCpuS')} s {row.get('engineCpuByStageS')}, ratio {row.get('cpuRatio')}",
                flush=True,
            )
    finally:
        for web in webs:
            stop(web)
        stop(worker)
        if keys is not None:
            stop(keys)
        shutil.rmtree(metrics_dir, ignore_errors=True)
    for row in rows:
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
