"""The hosted page and the SDK pace their frames in real Chromium: while frames go unanswered they wait.

The capture socket is routed through Playwright, which withholds every answer
for a while, as a service whose workers are far behind would. The client may
then send one frame a second at most (a frame the service skipped is never
answered); before it paced itself it kept sending ~9 a second, which the
service dropped unanalysed.
"""

from __future__ import annotations

import json

import pytest

from tests.hosted_browser import busy_capture_socket, frames_while_busy
from tests.sessions.test_browser import _browser, _start_demo
from tests.sessions.test_browser import playwright_driver as playwright_driver
from tests.sessions.test_browser import server as server
from tests.sessions.test_browser import videos as videos

from .sdk_browser import FPS, PASSIVE, Integrator, allow, api, launch

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BUSY_SECONDS = 3.0
# One frame, then one a second while nothing is answered (an unpaced client sent ~27 here).
MOST_FRAMES = BUSY_SECONDS + 2

WATCH_PAGE = """<!doctype html><meta charset="utf-8"><title>Shop: headless</title>
<video id="camera" autoplay muted playsinline></video><pre id="completed"></pre>
<script type="module">
import {{ watch }} from "{base}/sdk/v1/liveproof.js";
navigator.mediaDevices.getUserMedia({{ video: {{ width: 640, height: 480 }} }}).then((stream) => {{
  watch({{ sessionToken: {token}, video: stream, checks: false,
    onVerificationCompleted: (r) => {{ document.getElementById("completed").textContent = r.verificationResult; }} }});
}});
</script>"""


def test_the_page_waits_for_answers_instead_of_sending_frames_the_server_would_drop(server, videos, playwright_driver):
    browser = _browser(playwright_driver, videos["live"])
    page = browser.new_page(bypass_csp=True)
    sent = busy_capture_socket(page, BUSY_SECONDS)
    _start_demo(page, server["base"], "Passive")
    page.click("#consent-accept")
    busy = frames_while_busy(page, sent, BUSY_SECONDS)
    assert busy <= MOST_FRAMES, busy
    # Answers flow again: the page goes back to its full rate and the capture ends.
    page.wait_for_selector("body[data-screen=analysing], body[data-screen=result]", timeout=40_000)
    assert len(sent) - busy >= 5, len(sent)
    browser.close()


def test_the_sdk_paces_its_frames_the_same_way(sdk_service, sdk_camera, playwright_driver):
    # One Playwright driver per module: a second sync driver would find the first one's event loop running.
    from playwright.sync_api import expect

    created = api(sdk_service, "POST", "/v1/verification/create-session", PASSIVE)
    page_html = WATCH_PAGE.format(base=sdk_service.base, token=json.dumps(created["sessionToken"]), fps=FPS)
    integrator = Integrator({"/": page_html}, {})
    allow(sdk_service, integrator.origin)
    browser = launch(playwright_driver, sdk_camera["live"])
    try:
        page = browser.new_page()
        sent = busy_capture_socket(page, BUSY_SECONDS)
        page.goto(f"{integrator.origin}/")
        busy = frames_while_busy(page, sent, BUSY_SECONDS)
        assert busy <= MOST_FRAMES, busy
        expect(page.locator("#completed")).not_to_be_empty(timeout=90_000)
    finally:
        browser.close()
        integrator.close()
