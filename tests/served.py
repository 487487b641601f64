"""The service as the Procfile starts it (``python -m config.serve``), in a subprocess, on the embedded default.

The embedded default is what ``scripts/run`` starts: a SQLite file, in-process
tasks, the in-memory channel layer. End-to-end tests (the browser, frames
through daphne, the in-process periodic jobs) start it here.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import require_redis

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def embedded_env(database: Path, base: str, *, drop: tuple[str, ...] = (), **settings: str) -> dict[str, str]:
    """This process's environment on the embedded default at ``base``, without ``drop`` and with ``settings``."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", *drop)}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.base", DATABASE_URL=f"sqlite:///{database}")
    env.update(PUBLIC_BASE_URL=base, **settings)
    return env


def manage(env: dict[str, str], *args: str) -> str:
    """Run ``manage.py`` with ``args``; its standard output (a failure shows its standard error)."""
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


_migrated: list[Path] = []  # this process's migrated SQLite file, once made


def migrate(env: dict[str, str]) -> None:
    """``manage.py migrate`` for the SQLite file ``env`` names, as a copy of one migrated once per test process.

    The schema does not depend on the rest of ``env`` (no migration of ours runs code or reads a setting, and
    nothing of ours listens to ``post_migrate``), and each server a test starts skips ~4 s of migrating."""
    if not _migrated or not _migrated[0].exists():
        folder = Path(tempfile.mkdtemp(prefix="liveproof-migrated-"))
        atexit.register(shutil.rmtree, folder, True)
        template = folder / "migrated.sqlite3"
        manage({**env, "DATABASE_URL": f"sqlite:///{template}"}, "migrate", "--no-input", "-v", "0")
        _migrated[:] = [template]
    shutil.copyfile(_migrated[0], env["DATABASE_URL"].removeprefix("sqlite:///"))


@contextmanager
def serving(
    env: dict[str, str], port: int, log: Path, *args: str, module: str = "config.serve"
) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m config.serve [args]`` (or another ``module`` of the Procfile's, ``config.serve_api``) on
    127.0.0.1:``port`` for the block; stopped with SIGTERM, as process managers stop them, then SIGKILL.

    Not SIGINT: sent to the whole group, as here, it could leave granian's worker (``config.serve_api``) waiting
    for a shutdown that never came on a loaded machine, and each such stop waited out the 10 s below."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", module, "-b", "127.0.0.1", "-p", str(port), *args],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            yield process
        finally:
            with suppress(ProcessLookupError):  # a test may have killed it already
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)


def wait_until_healthy(process: subprocess.Popen[bytes], base: str, log: Path, seconds: float = 30) -> None:
    """Return once ``/v1/healthz`` answers; fail with the server's log if it exits or takes too long."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(f"{base}/v1/healthz", timeout=1)
            return
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)


@dataclass(frozen=True)
class Service:
    """A running embedded default: its port, base URL and one secret API key."""

    port: int
    base: str
    key: str


@contextmanager
def embedded_service(
    folder: Path,
    key_name: str = "Tests",
    serve_args: tuple[str, ...] = (),
    module: str = "config.serve",
    **settings: str,
) -> Iterator[Service]:
    """The embedded default in ``folder`` (migrated, one API key, with ``settings``) served on a free port for
    the block, by ``python -m config.serve`` (or ``module``) with ``serve_args``. The API process
    (``config.serve_api``) gets the suite's Redis: it does not start without one."""
    if module == "config.serve_api":
        settings = {"REDIS_URL": require_redis(), **settings}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = embedded_env(folder / "served.sqlite3", base, **settings)
    migrate(env)
    key = manage(env, "create_api_key", key_name).split()[-1]
    with serving(env, port, folder / "serve.log", *serve_args, module=module) as process:
        wait_until_healthy(process, base, folder / "serve.log")
        yield Service(port=port, base=base, key=key)
