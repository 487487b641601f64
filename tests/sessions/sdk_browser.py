"""The Web SDK's browser tests' pieces: the service, the fake camera, the integrator's site on another origin.

The service runs the embedded default on http://127.0.0.1:<port>; the integrator's site is a second local
server on http://localhost:<port> (another origin, still a secure context), whose origin the account allows.
The fake camera plays a synthetic live face (.y4m). The fixtures (``sdk_camera``, ``sdk_service``,
``sdk_driver``) are offered to the sessions tests by tests/sessions/conftest.py.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.hosted_browser import CHROMIUM, chromium
from tests.served import ROOT, embedded_service

ARTIFACTS = ROOT / "test-artifacts" / "sdk"
# React and react-dom from npm (package-lock.json; scripts/npm-tools runs npm ci): their UMD builds.
NODE_MODULES = ROOT / "node_modules"
FPS = 10
PASSIVE = {"verifierConfigs": {"liveness": {"type": "Verification", "challengeType": "Passive"}}}


@pytest.fixture(scope="module")
def sdk_camera(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | bytes]:
    from tests.face_engine import synthetic

    folder = tmp_path_factory.mktemp("camera")
    actor = synthetic.FaceActor("astronaut", fps=FPS, seed=5)
    live = actor.hold(1.0)
    for _ in range(4):
        live += actor.act("blink") + actor.hold(0.6)
    other = synthetic.passive_sequence("t1_3", 0.2, fps=FPS, seed=2)[0]
    return {"live": synthetic.write_y4m(live, folder / "live.y4m", fps=FPS), "other": synthetic.encode_jpeg(other)}


@contextmanager
def sdk_service_running(folder: Path, **settings: str) -> Iterator[object]:
    """The service in ``folder`` with ``settings``: its base URL, API key and SQLite database."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (scripts/test does it)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with embedded_service(folder, key_name="Shop", **settings) as running:
        yield SimpleNamespace(base=running.base, key=running.key, database=folder / "served.sqlite3")


@pytest.fixture(scope="module")
def sdk_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    with sdk_service_running(tmp_path_factory.mktemp("service")) as service:
        yield service


class Integrator:
    """The integrator's site on http://localhost:<port>: pages that use the SDK, and its own picture."""

    def __init__(self, pages: dict[str, str], files: dict[str, bytes], host: str = "localhost") -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if path in pages:
                    body, kind = pages[path].encode(), "text/html; charset=utf-8"
                elif path in files:
                    body = files[path]
                    kind = "text/javascript" if path.endswith(".js") else "image/jpeg"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # Another name than localhost (mapped by launch(hosts=…)) is not a secure context over http.
        self.origin = f"http://{host}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def api(service, method: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"{service.base}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"ApiKey {service.key}", "Content-Type": "application/json"},
        method=method,
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def allow(service, origin: str) -> None:
    """The account's allowed origins (the API refuses local addresses, so the row is set directly)."""
    with sqlite3.connect(service.database) as db:
        db.execute("UPDATE accounts_account SET allowed_redirect_origins = ?", (json.dumps([origin]),))


def session_status(service, session_id: str) -> str:
    """A session's status, read from the service's database."""
    with sqlite3.connect(service.database) as db:
        row = db.execute("SELECT status FROM capture_session WHERE id = ?", (session_id.replace("-", ""),)).fetchone()
    return str(row[0])


def session_expire_by_time(service, session_id: str) -> None:
    """Move a session's time to live a minute into the past (the sweep has not run yet)."""
    with sqlite3.connect(service.database) as db:
        db.execute(
            "UPDATE capture_session SET expires_at = datetime('now', '-1 minutes') WHERE id = ?",
            (session_id.replace("-", ""),),
        )


def launch(driver, video: Path, *, allow_camera: bool = True, hosts: tuple[str, ...] = ()):
    """Debian's Chromium with the fake camera playing ``video`` (allowed, or its prompt denied); ``hosts``
    resolve to 127.0.0.1."""
    return chromium(driver, video, camera=allow_camera, hosts=hosts)


@pytest.fixture(scope="module")
def sdk_driver() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


def npm_react() -> tuple[str, dict[str, bytes]]:
    """React's version and its UMD builds from node_modules, as the integrator's site serves them."""
    files = {
        "/react.js": NODE_MODULES / "react" / "umd" / "react.production.min.js",
        "/react-dom.js": NODE_MODULES / "react-dom" / "umd" / "react-dom.production.min.js",
    }
    missing = [str(path) for path in files.values() if not path.exists()]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: run `npm ci` (scripts/npm-tools does it)")
    version = json.loads((NODE_MODULES / "react" / "package.json").read_text())["version"]
    return version, {name: path.read_bytes() for name, path in files.items()}


# The integrator's page imports "react" as a module; npm's UMD build sets window.React.
REACT_SHIM = b"const R = window.React; export const { createElement, useEffect, useRef } = R; export default R;\n"


def react_site(service, page: str, verifiers: dict) -> tuple[dict, str, Integrator]:
    """A session with ``verifiers``, and an integrator's React site (allowed) serving ``page`` filled in with the
    service's base, the session's id and token; also React's version."""
    created = api(service, "POST", "/v1/verification/create-session", verifiers)
    html = page.format(
        base=service.base,
        session_id=json.dumps(created["verificationSessionId"]),
        token=json.dumps(created["sessionToken"]),
    )
    react, files = npm_react()
    integrator = Integrator({"/": html}, {**files, "/react-shim.js": REACT_SHIM})
    allow(service, integrator.origin)
    return created, react, integrator
