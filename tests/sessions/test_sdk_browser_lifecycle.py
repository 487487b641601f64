"""``Liveproof.watch``'s life in real Chromium: what it leaves behind once stopped, and how it reports a problem.

The integrator's page (another origin, tests/sessions/sdk_browser.py) starts ``watch`` itself through
``window.start`` and keeps every camera stream and socket the page opens, so a test can read whether the
SDK's own camera is still on, how many sockets it opened, and every callback it got.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from .sdk_browser import (
    PASSIVE,
    Integrator,
    allow,
    api,
    launch,
    sdk_service_running,
    session_expire_by_time,
    session_status,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LIFECYCLE_PAGE = """<!doctype html><meta charset="utf-8"><title>Shop: checks</title>
<pre id="completed"></pre><pre id="errors"></pre>
<script type="module">
import {{ mount, watch }} from "{base}/sdk/v1/liveproof.js";
const out = (id, text) => {{ document.getElementById(id).textContent += text + "\\n"; }};
// Every camera stream the page opens (the SDK's own among them), to see whether it is still on.
const streams = [];
if (navigator.mediaDevices) {{
  const open = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {{
    // With cameraBusy, the camera is there but another app holds it (Chromium says NotReadableError).
    if (window.cameraBusy) throw new DOMException("Could not start video source", "NotReadableError");
    const stream = await open(constraints);
    streams.push(stream);
    return stream;
  }};
}}
// With stopAfterClose, the app stops the watcher just after the SDK has handled a socket's close.
const Socket = window.WebSocket;
window.WebSocket = function (url) {{
  const socket = new Socket(url);
  socket.addEventListener("close", () => {{ if (window.stopAfterClose) setTimeout(() => window.watcher.stop(), 50); }});
  return socket;
}};
window.liveTracks = () => streams.flatMap((s) => s.getTracks()).filter((t) => t.readyState === "live").length;
window.streamsOpened = () => streams.length;
window.start = (token, extra) => {{
  window.watcher = watch({{
    sessionToken: token,
    baseUrl: "{base}",
    checks: false,
    onVerificationCompleted: (r) => out("completed", r.verificationResult + " " + r.reasons.join(",")),
    onServiceError: (e) => out("errors", e.operation + ":" + e.code),
    ...extra,
  }});
}};
// mount with sessionId and accessToken, in place of the one before; the errors so far are cleared.
window.embed = (sessionId, accessToken) => {{
  if (window.shown) window.shown.unmount();
  document.getElementById("errors").textContent = "";
  window.shown = mount(document.body, {{
    sessionId, accessToken, baseUrl: "{base}",
    onVerificationCompleted: (r) => out("completed", r.verificationResult),
    onServiceError: (e) => out("errors", e.operation + ":" + e.code),
  }});
}};
window.ready = true;
</script>"""


@pytest.fixture(scope="module")
def short_token_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The service with session tokens that live 3 s (SESSION_TOKEN_TTL_SECONDS; 600 by default)."""
    with sdk_service_running(tmp_path_factory.mktemp("short"), SESSION_TOKEN_TTL_SECONDS="3") as service:
        yield service


@contextmanager
def _page(sdk_service, sdk_driver, camera: str, host: str = "localhost", sockets=None) -> Iterator[object]:
    """The integrator's page on ``host``, loaded in Chromium with ``camera``; ``sockets`` routes its capture
    sockets (set before the page's script runs: Playwright replaces the page's WebSocket, which the page then
    wraps). The browser and the integrator's server are closed on the way out."""
    integrator = Integrator({"/": LIFECYCLE_PAGE.format(base=sdk_service.base)}, {}, host)
    allow(sdk_service, integrator.origin)
    browser = launch(sdk_driver, camera, hosts=() if host == "localhost" else (host,))
    try:
        page = browser.new_page()
        if sockets is not None:
            page.route_web_socket("**/ws/v1/sessions/**", sockets)
        page.goto(f"{integrator.origin}/")
        for _ in range(100):
            if page.evaluate("window.ready === true"):
                break
            page.wait_for_timeout(100)
        else:
            raise AssertionError("the integrator's page did not load the SDK")
        yield page
    finally:
        browser.close()
        integrator.close()


def _eventually(page, script: str, expected: object, seconds: float = 10) -> object:
    """``script``'s value once it is ``expected``, or its last value after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        value = page.evaluate(script)
        if value == expected or time.monotonic() > deadline:
            return value
        page.wait_for_timeout(100)


def test_stop_turns_off_the_camera_watch_opened_itself_and_never_the_apps_own(sdk_service, sdk_camera, sdk_driver):
    from playwright.sync_api import expect

    created = api(sdk_service, "POST", "/v1/verification/create-session", PASSIVE)
    with _page(sdk_service, sdk_driver, sdk_camera["live"]) as page:
        page.evaluate(f"start({json.dumps(created['sessionToken'])})")  # no video: the SDK opens the camera
        expect(page.locator("#completed")).not_to_be_empty(timeout=90_000)
        page.evaluate("watcher.stop()")  # as VerifyVerifier's unmount does
        assert page.evaluate("streamsOpened()") == 1
        assert _eventually(page, "liveTracks()", 0) == 0, "the SDK's camera is still on after stop()"

        # The app's own stream, handed to watch, is the app's to turn off: stop() leaves it on.
        other = api(sdk_service, "POST", "/v1/verification/create-session", PASSIVE)
        page.evaluate(
            """async (token) => {
                 const own = await navigator.mediaDevices.getUserMedia({ video: true });
                 start(token, { video: own });
                 await new Promise((done) => setTimeout(done, 1000));
                 watcher.stop();
               }""",
            other["sessionToken"],
        )
        page.wait_for_timeout(500)
        assert page.evaluate("liveTracks()") == 1


def test_stop_while_watch_waits_to_reconnect_opens_no_socket_again(sdk_service, sdk_camera, sdk_driver):
    created = api(sdk_service, "POST", "/v1/verification/create-session", PASSIVE)
    sockets = []

    def route(ws) -> None:
        sockets.append(ws)
        if len(sockets) == 1:
            ws.close(code=4000)  # a drop that is not final: the SDK waits, then reconnects
        else:
            ws.connect_to_server()

    with _page(sdk_service, sdk_driver, sdk_camera["live"], sockets=route) as page:
        page.evaluate("window.stopAfterClose = true")
        page.evaluate(f"start({json.dumps(created['sessionToken'])})")
        page.wait_for_timeout(4000)  # the first reconnect would have come after 0.8 s
        assert len(sockets) == 1, "a stopped watcher connected again"
        assert session_status(sdk_service, created["verificationSessionId"]) == "created"  # its token unspent
        assert page.text_content("#errors") == "" and page.text_content("#completed") == ""


def test_watch_outside_a_secure_context_reports_a_missing_camera_and_throws_nothing(
    sdk_service, sdk_camera, sdk_driver
):
    from playwright.sync_api import expect

    created = api(sdk_service, "POST", "/v1/verification/create-session", PASSIVE)
    # http://shop.test: no navigator.mediaDevices
    with _page(sdk_service, sdk_driver, sdk_camera["live"], host="shop.test") as page:
        assert page.evaluate("isSecureContext") is False
        thrown = page.evaluate("(token) => { try { start(token); return null; } catch (e) { return String(e); } }",
                               created["sessionToken"])  # fmt: skip
        assert thrown is None
        expect(page.locator("#errors")).to_have_text("camera:cameraMissing\n", timeout=10_000)


def test_a_refused_token_is_reported_once(sdk_service, sdk_camera, sdk_driver):
    from playwright.sync_api import expect

    created = api(sdk_service, "POST", "/v1/verification/create-session", PASSIVE)
    with _page(sdk_service, sdk_driver, sdk_camera["live"]) as page:
        # Another socket spends the token first: the watcher's gets the error tokenUsed, then close 4409.
        url = f"{sdk_service.base.replace('http', 'ws')}/ws/v1/sessions/{created['verificationSessionId']}/"
        page.evaluate(
            """([url, token]) => new Promise((done) => {
                 const socket = new WebSocket(url);
                 socket.onopen = () => socket.send(JSON.stringify({ type: "auth", token }));
                 socket.onmessage = () => { socket.close(); done(); };
               })""",
            [url, created["sessionToken"]],
        )
        page.evaluate(f"start({json.dumps(created['sessionToken'])})")
        errors = page.locator("#errors")
        expect(errors).not_to_be_empty(timeout=15_000)
        page.wait_for_timeout(1500)  # the close comes after the error message
        assert page.text_content("#errors") == "socket:tokenUsed\n"


def test_watch_reports_an_expired_session_as_the_embedded_page_does_not_as_a_failed_verification(
    sdk_service, sdk_camera, sdk_driver
):
    from playwright.sync_api import expect

    created = api(sdk_service, "POST", "/v1/verification/create-session", PASSIVE)
    session_expire_by_time(sdk_service, created["verificationSessionId"])
    with _page(sdk_service, sdk_driver, sdk_camera["live"]) as page:
        page.evaluate(f"start({json.dumps(created['sessionToken'])})")
        expect(page.locator("#errors")).not_to_be_empty(timeout=15_000)
        page.wait_for_timeout(1500)  # the close 4410 comes after the result
        assert page.text_content("#errors") == "session:sessionExpired\n"
        assert page.text_content("#completed") == ""
        assert _eventually(page, "liveTracks()", 0) == 0  # stopped: its camera is off


def test_an_expired_access_token_is_reported_by_mount_and_watch(short_token_service, sdk_camera, sdk_driver):
    from playwright.sync_api import expect

    service = short_token_service
    live, lapsed, watched = (api(service, "POST", "/v1/verification/create-session", PASSIVE) for _ in range(3))
    session_expire_by_time(service, lapsed["verificationSessionId"])
    with _page(service, sdk_driver, sdk_camera["live"]) as page:
        page.wait_for_timeout(4000)  # every token has expired (3 s)
        errors = page.locator("#errors")
        embed = "([id, token]) => embed(id, token)"
        page.evaluate(embed, [live["verificationSessionId"], live["sessionToken"]])
        # The session is still open, not to this token: the page says so (it opens no capture).
        expect(errors).to_have_text("session:tokenExpired\n", timeout=15_000)
        assert session_status(service, live["verificationSessionId"]) == "created"
        page.evaluate(embed, [lapsed["verificationSessionId"], lapsed["sessionToken"]])
        expect(errors).to_have_text("session:sessionExpired\n", timeout=15_000)
        page.evaluate("shown.unmount(); document.getElementById('errors').textContent = ''")
        page.evaluate(f"start({json.dumps(watched['sessionToken'])})")
        expect(errors).not_to_be_empty(timeout=15_000)
        page.wait_for_timeout(1500)  # the close 4401 comes after the error message
        assert page.text_content("#errors") == "socket:tokenExpired\n"
        assert page.text_content("#completed") == ""


def test_a_camera_another_app_holds_is_reported_as_in_use_not_missing(sdk_service, sdk_camera, sdk_driver):
    from playwright.sync_api import expect

    created = api(sdk_service, "POST", "/v1/verification/create-session", PASSIVE)
    with _page(sdk_service, sdk_driver, sdk_camera["live"]) as page:
        page.evaluate("window.cameraBusy = true")
        page.evaluate(f"start({json.dumps(created['sessionToken'])})")
        expect(page.locator("#errors")).to_have_text("camera:cameraInUse\n", timeout=10_000)
        assert session_status(sdk_service, created["verificationSessionId"]) == "created"  # no socket was opened
