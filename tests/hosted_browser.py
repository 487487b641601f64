"""Helpers for the hosted pages' browser tests: Debian's Chromium with a fake camera, screenshots, axe-core.

axe-core comes from npm (``package.json``, installed by ``scripts/test`` with ``npm ci``) and is injected
from ``node_modules``: no network. ``axe_serious`` runs it on the page as it stands and returns the
serious and critical violations.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.served import ROOT, embedded_env, free_port, migrate, serving, wait_until_healthy

CHROMIUM = "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
SIZES = {"desktop": DESKTOP, "phone": PHONE}
# The camera's tracks, as the hosted page's video holds them: "live" or "ended" each.
TRACKS_JS = """() => { const v = document.getElementById('video');
  return v.srcObject ? v.srcObject.getTracks().map(t => t.readyState) : []; }"""


def chromium(driver: Any, video: Path | None = None, *, camera: bool = True, hosts: tuple[str, ...] = ()) -> Any:
    """Headless Chromium; ``camera``: a fake camera that is allowed (fed from ``video``), else prompts are denied.
    ``hosts``: names that resolve to 127.0.0.1 (a site on such a name over http is not a secure context)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (scripts/test does it)")
    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--host-resolver-rules="
        + "".join(f"MAP {host} 127.0.0.1 , " for host in hosts)
        + "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost",
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream" if camera else "--deny-permission-prompts",
    ]
    if video is not None:
        args.append(f"--use-file-for-fake-video-capture={video.resolve()}")
    return driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)


def shot(page: Any, folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def axe_serious(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as shown now (hidden screens are not checked)."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run 'npm ci' (scripts/test does it)")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated through the DevTools protocol, so the page's own CSP (script-src 'self') stays in force.
        page.evaluate(AXE.read_text(encoding="utf-8"))
    found = page.evaluate(
        """async () => {
          const result = await axe.run(document, {resultTypes: ['violations']});
          return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                               nodes: v.nodes.map(n => n.target.join(' '))}));
        }"""
    )
    return [v for v in found if v["impact"] in ("serious", "critical")]


def assert_accessible(page: Any, what: str) -> None:
    serious = axe_serious(page)
    assert serious == [], f"{what}: {json.dumps(serious, indent=1)}"


@contextmanager
def hosted_app(folder: Path, artifacts: Path, **settings: str) -> Iterator[dict[str, str]]:
    """The app as ``scripts/run`` starts it (embedded default, demo on) on a free port; its base URL and database."""
    database = folder / "browser.sqlite3"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = embedded_env(database, base, DEMO_MODE="true", DEBUG="true", **settings)
    migrate(env)
    artifacts.mkdir(parents=True, exist_ok=True)
    with serving(env, port, artifacts / "daphne.log") as process:
        wait_until_healthy(process, base, artifacts / "daphne.log")
        yield {"base": base, "database": str(database), "env": json.dumps(env)}


def demo_session(page: Any, base: str, challenge_type: str = "Passive") -> str:
    """A session made by the demo integrator (failedUrl and passedUrl on /demo/return/, signed); its id."""
    page.goto(f"{base}/demo/")
    page.check(f"input[name=challengeType][value={challenge_type}]")
    page.click("button[type=submit]")
    page.wait_for_url("**/s/*/?k=*")
    return str(page.url.split("/s/")[1].split("/")[0])


def session_update(database: str, session_id: str, **columns: object) -> None:
    """Set columns of a session row (JSON for lists and dicts)."""
    sets = ", ".join(f"{name} = ?" for name in columns)
    values = [json.dumps(v) if isinstance(v, (list, dict)) else v for v in columns.values()]
    with sqlite3.connect(database) as db:
        db.execute(f"UPDATE capture_session SET {sets} WHERE id = ?", (*values, uuid.UUID(session_id).hex))


def session_config_edit(database: str, session_id: str, edit: Any) -> None:
    """Change a session's stored config with ``edit(config)``."""
    with sqlite3.connect(database) as db:
        (raw,) = db.execute("SELECT config FROM capture_session WHERE id = ?", (uuid.UUID(session_id).hex,)).fetchone()
    config = json.loads(raw)
    edit(config)
    session_update(database, session_id, config=config)


def busy_capture_socket(page: Any, seconds: float) -> list[float]:
    """Route the page's capture socket through Playwright and withhold every ``feedback`` and ``check`` answer
    for ``seconds`` after the first frame, as a service whose workers are far behind would; returns the list
    (filled as the page runs) of the times the page sent each frame."""
    import time

    sent: list[float] = []

    def route(ws: Any) -> None:
        upstream = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            if isinstance(message, bytes):
                sent.append(time.monotonic())
            upstream.send(message)

        def from_server(message: str | bytes) -> None:
            busy = bool(sent) and time.monotonic() - sent[0] < seconds
            if busy and isinstance(message, str) and json.loads(message).get("type") in ("feedback", "check"):
                return  # a worker that has not got to this frame yet
            ws.send(message)

        ws.on_message(from_page)
        upstream.on_message(from_server)

    page.route_web_socket("**/ws/v1/sessions/**", route)
    return sent


def frames_while_busy(page: Any, sent: list[float], seconds: float) -> int:
    """Wait for the first frame and the busy spell after it; the frames the page sent during that spell."""
    import time

    deadline = time.monotonic() + 30
    while not sent and time.monotonic() < deadline:
        page.wait_for_timeout(100)  # the camera starts, the socket authenticates, the first frame goes
    assert sent, "the page sent no frame"
    page.wait_for_timeout(seconds * 1000 + 500)
    return sum(1 for t in sent if t - sent[0] < seconds)
