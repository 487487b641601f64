"""``Liveproof.watch`` on the integrator's own ``<video>`` element, and ``onChallenge``, in real Chromium.

The integrator's page (another origin, tests/sessions/sdk_browser.py) plays the fake camera (a synthetic live
face) in its own visible ``<video>`` and hands that element to ``watch``. The SDK reads that element and no
camera of its own: once the session passed, the page switches its element to another person's picture and
the next samples report ``faceChanged``. An active session reports its challenges through ``onChallenge``,
with nothing shown by the SDK.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from .sdk_browser import ARTIFACTS, PASSIVE, Integrator, allow, api, launch, react_site

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ACTIVE = {"verifierConfigs": {"liveness": {"type": "Verification", "challengeType": "Balanced"}}}

VIDEO_PAGE = """<!doctype html><meta charset="utf-8"><title>Shop: exam</title>
<video id="camera" autoplay muted playsinline width="320"></video>
<button id="swap">show someone else in my video</button>
<pre id="completed"></pre><pre id="checks"></pre><pre id="challenges"></pre><pre id="errors"></pre>
<script type="module">
import {{ watch }} from "{base}/sdk/v1/liveproof.js";
const camera = document.getElementById("camera");
const out = (id, text) => {{ document.getElementById(id).textContent += text + "\\n"; }};
document.getElementById("swap").onclick = () => {{
  // The integrator's element now plays another picture: a canvas with someone else, as a stream.
  const other = new Image();
  other.src = "/other.jpg";
  const canvas = document.createElement("canvas");
  canvas.width = 640; canvas.height = 480;
  setInterval(() => canvas.getContext("2d").drawImage(other, 0, 0, 640, 480), 50);
  camera.srcObject = canvas.captureStream(10);
  camera.play();
}};
navigator.mediaDevices.getUserMedia({{ video: {{ width: 640, height: 480 }} }}).then(async (stream) => {{
  camera.srcObject = stream;
  await camera.play();
  window.watcher = watch({{
    sessionToken: {token},
    video: camera,
    intervalMs: 600,
    onVerificationCompleted: (r) => {{ document.getElementById("completed").textContent = r.verificationResult; }},
    onCheck: (c) => out("checks", JSON.stringify(c)),
    onChallenge: (c) => out("challenges", JSON.stringify(c)),
    onServiceError: (e) => out("errors", e.operation + ":" + e.code),
  }});
}});
</script>"""


def _page(sdk_service, created: dict, other: bytes) -> Integrator:
    page_html = VIDEO_PAGE.format(base=sdk_service.base, token=json.dumps(created["sessionToken"]))
    integrator = Integrator({"/": page_html}, {"/other.jpg": other})
    allow(sdk_service, integrator.origin)
    return integrator


def test_watch_reads_the_integrators_own_video_element(sdk_service, sdk_camera, sdk_driver):
    from playwright.sync_api import expect

    created = api(sdk_service, "POST", "/v1/verification/create-session", PASSIVE)
    integrator = _page(sdk_service, created, sdk_camera["other"])
    browser = launch(sdk_driver, sdk_camera["live"])
    try:
        page = browser.new_page()
        page.goto(f"{integrator.origin}/")
        expect(page.locator("#completed")).to_have_text("Pass", timeout=90_000)
        checks = page.locator("#checks")
        expect(checks).to_contain_text('"samePerson":true', timeout=30_000)
        # The SDK shows nothing: no element of its own in the page.
        assert page.evaluate("document.querySelectorAll('video, canvas, iframe').length") == 1
        page.click("#swap")  # only what this element shows changes: a camera of the SDK's own would not see it
        expect(checks).to_contain_text('"alert":"faceChanged"', timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "watch-video-element.png"), full_page=True)
        assert page.text_content("#errors") == "" and page.text_content("#challenges") == ""
        session_id = created["verificationSessionId"]
        result = api(sdk_service, "GET", f"/v1/verification/get-session-result?verificationSessionId={session_id}")
        assert result["verificationResult"] == "Pass"
        assert [c["reason"] for c in result["checks"]] == ["faceChanged"], result["checks"]
    finally:
        browser.close()
        integrator.close()


def test_watch_reports_an_active_sessions_challenges_to_on_challenge(sdk_service, sdk_camera, sdk_driver):
    from playwright.sync_api import expect

    created = api(sdk_service, "POST", "/v1/verification/create-session", ACTIVE)
    with sqlite3.connect(sdk_service.database) as db:
        row = db.execute(
            "SELECT challenges FROM capture_session WHERE id = ?", (created["verificationSessionId"].replace("-", ""),)
        ).fetchone()
    planned = json.loads(row[0])
    assert len(planned) >= 2
    integrator = _page(sdk_service, created, sdk_camera["other"])
    browser = launch(sdk_driver, sdk_camera["live"])
    try:
        page = browser.new_page()
        page.goto(f"{integrator.origin}/")
        challenges = page.locator("#challenges")
        expect(challenges).not_to_be_empty(timeout=60_000)
        first = json.loads((page.text_content("#challenges") or "").splitlines()[0])
        # The first challenge of the session's plan, as the socket announced it (docs/websocket.md "challenge").
        assert first == {"challenge": planned[0], "index": 0, "total": len(planned), "reprompt": False}, first
        assert page.evaluate("document.querySelectorAll('video, canvas, iframe').length") == 1  # nothing shown
        assert page.text_content("#checks") == ""
    finally:
        browser.close()
        integrator.close()


REACT_HEADLESS_PAGE = """<!doctype html><meta charset="utf-8"><title>Shop (React, headless)</title>
<script src="/react.js"></script><script src="/react-dom.js"></script>
<script type="importmap">{{"imports": {{"react": "/react-shim.js"}}}}</script>
<div id="app"></div><pre id="challenges"></pre><pre id="errors"></pre>
<script type="module">
import {{ VerifyVerifier }} from "{base}/sdk/v1/react.js";
const out = (id, text) => {{ document.getElementById(id).textContent += text + "\\n"; }};
ReactDOM.createRoot(document.getElementById("app")).render(React.createElement(VerifyVerifier, {{
  sessionId: {session_id},
  accessToken: {token},
  baseUrl: "{base}",
  headless: true,
  onChallenge: (c) => out("challenges", JSON.stringify(c)),
  onServiceError: (operation) => out("errors", operation),
}}));
</script>"""


def test_the_headless_react_component_reports_an_active_sessions_challenges(sdk_service, sdk_camera, sdk_driver):
    """``VerifyVerifier headless`` passed onCheck to ``watch`` but not onChallenge: an active session's challenges,
    which nothing shows, never reached the integrator (docs/sdk.md)."""
    from playwright.sync_api import expect

    _created, _react, integrator = react_site(sdk_service, REACT_HEADLESS_PAGE, ACTIVE)
    browser = launch(sdk_driver, sdk_camera["live"])
    try:
        page = browser.new_page()
        page.goto(f"{integrator.origin}/")
        expect(page.locator("#challenges")).not_to_be_empty(timeout=60_000)
        first = json.loads((page.text_content("#challenges") or "").splitlines()[0])
        assert first["index"] == 0 and first["reprompt"] is False and first["total"] >= 2, first
        assert page.text_content("#errors") == ""
    finally:
        browser.close()
        integrator.close()
