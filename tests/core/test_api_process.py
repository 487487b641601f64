"""The API process (``python -m config.serve_api``, granian, HTTP only) answers the API as the web process does.

It is the Procfile's ``api`` process: a load balancer sends it HTTP requests and the capture sockets to the web
process (docs/operations.md, "The API process"). Both run the same Django code; these tests start both on one
data set and compare what each answers.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_redis
from tests.served import ROOT, Service, embedded_env, free_port, manage, migrate, serving, wait_until_healthy

pytestmark = [pytest.mark.slow]

PASSIVE = {"verifierConfigs": {"liveness": {"type": "Verification", "challengeType": "Passive"}}}
# Headers that differ between any two answers, or between the two HTTP servers' own framing.
FRAMING = {"date", "server", "content-length", "connection", "transfer-encoding"}


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, Service]]:
    """The web process and the API process on one SQLite file and one Redis: (web, api)."""
    folder = tmp_path_factory.mktemp("api-process")
    ports = free_port(), free_port()
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    env = embedded_env(folder / "served.sqlite3", bases[0], REDIS_URL=require_redis())
    migrate(env)
    key = manage(env, "create_api_key", "API process").split()[-1]
    with (
        serving(env, ports[0], folder / "web.log") as web,
        serving(env, ports[1], folder / "api.log", module="config.serve_api") as api,
    ):
        wait_until_healthy(web, bases[0], folder / "web.log")
        wait_until_healthy(api, bases[1], folder / "api.log")
        yield (
            Service(port=ports[0], base=bases[0], key=key),
            Service(port=ports[1], base=bases[1], key=key),
        )


def _request(
    service: Service, method: str, path: str, body: dict | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", service.port, timeout=30)
    sent = {"Authorization": f"ApiKey {service.key}", **(headers or {})}
    if body is not None:
        sent["Content-Type"] = "application/json"
    connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=sent)
    response = connection.getresponse()
    result = response.status, {name.lower(): value for name, value in response.getheaders()}, response.read()
    connection.close()
    return result


def _headers(answer: tuple[int, dict[str, str], bytes]) -> dict[str, object]:
    """The answer's headers but the framing ones; the CSP as its set of directives (their order is a set's)."""
    headers: dict[str, object] = {k: v for k, v in answer[1].items() if k not in FRAMING}
    if "content-security-policy" in headers:
        headers["content-security-policy"] = set(answer[1]["content-security-policy"].split("; "))
    return headers


def _same_answer(web: tuple[int, dict[str, str], bytes], api: tuple[int, dict[str, str], bytes]) -> None:
    assert web[0] == api[0], (web, api)
    assert _headers(web) == _headers(api)
    assert json.loads(web[2]) == json.loads(api[2])


def test_a_session_made_through_the_api_process_reads_the_same_from_both(both):
    web, api = both
    status, headers, content = _request(api, "POST", "/v1/verification/create-session", PASSIVE)
    assert status == 200 and headers["server"] == "granian", (status, headers, content)
    session_id = json.loads(content)["verificationSessionId"]
    path = f"/v1/verification/get-session-result?verificationSessionId={session_id}"
    from_api, from_web = _request(api, "GET", path), _request(web, "GET", path)
    assert from_api[0] == 200 and json.loads(from_api[2])["verificationSessionId"] == session_id
    # The same payload and the same security headers (CSP, nosniff, referrer policy, frame options, ...).
    _same_answer(from_web, from_api)
    assert "content-security-policy" in from_api[1] and from_api[1]["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("method", "path", "body", "headers"),
    [
        ("GET", "/v1/verification/get-session-result?verificationSessionId=nope", None, {}),
        ("GET", "/v1/verification/get-session-result", None, {"Authorization": "ApiKey lp_sk_wrong"}),
        ("POST", "/v1/verification/create-session", {"verifierConfigs": []}, {}),
        ("GET", "/v1/no-such-endpoint", None, {}),
        # 004's submission, an async def view: on the API process it runs on its request's WSGI thread.
        ("POST", "/verif/submit", {"api_key": "lp_pk_x"}, {}),
    ],
    ids=["malformed-id", "wrong-key", "malformed-body", "unknown-path", "async-view"],
)
def test_a_refusal_reads_the_same_from_both(both, method, path, body, headers):
    web, api = both
    from_web = _request(web, method, path, body, headers)
    assert 400 <= from_web[0] < 500, from_web
    _same_answer(from_web, _request(api, method, path, body, headers))


def test_the_api_process_opens_no_socket(both):
    _, api = both
    connection = http.client.HTTPConnection("127.0.0.1", api.port, timeout=30)
    connection.request(
        "GET",
        "/ws/sessions/x",
        headers={
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version": "13",
        },
    )
    response = connection.getresponse()
    response.read()
    connection.close()
    # HTTP only: the upgrade is an ordinary request for an unknown page, never a socket.
    assert response.status == 404


def test_the_api_process_does_not_start_without_redis(tmp_path: Path):
    env = embedded_env(tmp_path / "db.sqlite3", "http://127.0.0.1:8000")
    done = subprocess.run(
        [sys.executable, "-m", "config.serve_api", "-b", "127.0.0.1", "-p", str(free_port())],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1 and "config.serve_api needs REDIS_URL" in done.stderr, done


def test_the_hosted_page_its_script_and_the_admin_read_the_same_from_both(both):
    """The load balancer sends every request but the socket's to the API process: pages and static files too."""
    import re
    from urllib.parse import urlsplit

    web, api = both
    status, _, content = _request(api, "POST", "/v1/verification/create-session", PASSIVE)
    assert status == 200, content
    url = urlsplit(json.loads(content)["sessionUrl"])
    page = f"{url.path}?{url.query}"
    from_web, from_api = _request(web, "GET", page), _request(api, "GET", page)
    assert from_web[0] == from_api[0] == 200
    assert from_web[1]["content-type"] == from_api[1]["content-type"] == "text/html; charset=utf-8"
    scripts = re.findall(rb'src="(/static/[^"]+\.js)"', from_api[2])
    assert scripts and scripts == re.findall(rb'src="(/static/[^"]+\.js)"', from_web[2])
    for script in scripts:
        web_file, api_file = _request(web, "GET", script.decode()), _request(api, "GET", script.decode())
        assert web_file[0] == api_file[0] == 200 and web_file[2] == api_file[2] and len(api_file[2]) > 1000
        assert "javascript" in api_file[1]["content-type"]
    admin = "/admin/login/"
    assert _request(web, "GET", admin)[0] == _request(api, "GET", admin)[0] == 200


def test_the_api_process_stops_when_its_worker_does_not(tmp_path: Path):
    """granian waits for its worker to stop, and waited forever when one did not: Ctrl-C (SIGINT to the process
    group) on a loaded machine could leave granian 2.8.9's worker waiting for a shutdown that never came. Now the
    worker is killed after API_WORKER_STOP_SECONDS. A stopped worker (SIGSTOP) stands for one that misses its stop."""
    port = free_port()
    env = embedded_env(
        tmp_path / "served.sqlite3", f"http://127.0.0.1:{port}", REDIS_URL=require_redis(), API_WORKER_STOP_SECONDS="1"
    )
    migrate(env)
    with serving(env, port, tmp_path / "api.log", module="config.serve_api") as api:
        wait_until_healthy(api, f"http://127.0.0.1:{port}", tmp_path / "api.log")
        workers = _children(api.pid)
        assert len(workers) == 1, workers
        os.kill(int(workers[0]), signal.SIGSTOP)
        started = time.monotonic()
        os.kill(api.pid, signal.SIGTERM)  # the main process only, as a process manager stops it
        api.wait(timeout=15)  # before: TimeoutExpired (serving's clean-up then kills the group)
        assert time.monotonic() - started < 10
        assert "refused to gracefully stop" in (tmp_path / "api.log").read_text()


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``, from /proc (no procps needed)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found
