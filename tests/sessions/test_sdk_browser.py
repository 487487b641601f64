"""The Web SDK in real Chromium, used by an integrator's page on another origin (docs/sdk.md).

The service, the integrator's site on another origin and the fake camera are in tests/sessions/sdk_browser.py.
Embedded: ``Liveproof.mount`` (the
global build) frames the hosted page and reports the verdict. Headless: ``watch`` (the ES module, imported
across origins) streams the page's own canvas stream of that camera; a second person steps in, then
replaces the first, and each change is reported, listed in get-session-result and nothing is shown.
"""

from __future__ import annotations

import json
import re

import pytest

from .sdk_browser import ARTIFACTS, FPS, PASSIVE, Integrator, allow, api, launch, react_site, session_expire_by_time

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EMBEDDED_PAGE = """<!doctype html><meta charset="utf-8"><title>Shop: sign up</title>
<script src="{base}/sdk/v1/liveproof.global.js"></script>
<div id="verify"></div><pre id="completed"></pre><pre id="errors"></pre>
<script>
Liveproof.mount(document.getElementById("verify"), {{
  sessionUrl: {session_url},
  onVerificationCompleted: (r) => {{ document.getElementById("completed").textContent = JSON.stringify(r); }},
  onServiceError: (e) => {{ document.getElementById("errors").textContent += e.operation + ":" + e.code + "\\n"; }},
}});
</script>"""

HEADLESS_PAGE = """<!doctype html><meta charset="utf-8"><title>Shop: exam</title>
<video id="camera" autoplay muted playsinline width="320"></video>
<button id="step-in">a second person steps in</button><button id="swap">someone else takes over</button>
<pre id="completed"></pre><pre id="checks"></pre><pre id="errors"></pre>
<script type="module">
import {{ watch }} from "{base}/sdk/v1/liveproof.js";
const camera = document.getElementById("camera");
const other = new Image();
other.src = "/other.jpg";
let scene = "alone";
document.getElementById("step-in").onclick = () => {{ scene = "pair"; }};
document.getElementById("swap").onclick = () => {{ scene = "other"; }};
// The integrator's own pipeline: the camera through a canvas (where a second person can appear).
const canvas = document.createElement("canvas");
canvas.width = 640; canvas.height = 480;
const paint = canvas.getContext("2d");
setInterval(() => {{
  if (!camera.videoWidth) return;
  if (scene === "alone") paint.drawImage(camera, 0, 0, 640, 480);
  else if (scene === "other") paint.drawImage(other, 0, 0, 640, 480);
  else {{
    paint.drawImage(camera, 160, 0, 320, 480, 0, 0, 320, 480);
    paint.drawImage(other, 160, 0, 320, 480, 320, 0, 320, 480);
  }}
}}, 50);
navigator.mediaDevices.getUserMedia({{ video: {{ width: 640, height: 480 }} }}).then((stream) => {{
  camera.srcObject = stream;
  window.watcher = watch({{
    sessionToken: {token},
    video: canvas.captureStream({fps}),
    intervalMs: 600,
    deviceId: "shop-app-install-000000000042",
    onVerificationCompleted: (r) => {{ document.getElementById("completed").textContent = r.verificationResult; }},
    onCheck: (c) => {{ document.getElementById("checks").textContent += JSON.stringify(c) + "\\n"; }},
    onServiceError: (e) => {{ document.getElementById("errors").textContent += e.operation + ":" + e.code + "\\n"; }},
  }});
}});
</script>"""


REACT_PAGE = """<!doctype html><meta charset="utf-8"><title>Shop (React)</title>
<script src="/react.js"></script><script src="/react-dom.js"></script>
<script type="importmap">{{"imports": {{"react": "/react-shim.js"}}}}</script>
<div id="app"></div><pre id="completed"></pre><pre id="errors"></pre>
<script type="module">
import {{ VerifyVerifier }} from "{base}/sdk/v1/react.js";
ReactDOM.createRoot(document.getElementById("app")).render(React.createElement(VerifyVerifier, {{
  sessionId: {session_id},
  accessToken: {token},
  region: "eu",
  baseUrl: "{base}",
  onVerificationCompleted: (sessionId) => {{ document.getElementById("completed").textContent = sessionId; }},
  onServiceError: (operation) => {{ document.getElementById("errors").textContent += operation + "\\n"; }},
}}));
</script>"""


def test_embedded_mount_frames_the_hosted_page_and_reports_the_verdict_to_another_origin(
    sdk_service, sdk_camera, sdk_driver
):
    from playwright.sync_api import expect

    created = api(sdk_service, "POST", "/v1/verification/create-session", PASSIVE)
    page_html = EMBEDDED_PAGE.format(base=sdk_service.base, session_url=json.dumps(created["sessionUrl"]))
    integrator = Integrator({"/": page_html}, {})
    allow(sdk_service, integrator.origin)
    browser = launch(sdk_driver, sdk_camera["live"])
    try:
        page = browser.new_page()
        page.goto(f"{integrator.origin}/")
        frame = page.frame_locator("iframe[data-liveproof=embedded]")
        frame.locator("#consent-accept").click()
        frame.locator("body[data-screen=result]").wait_for(timeout=60_000)
        while frame.locator("#retry").is_visible():  # a loaded machine may leave the engine unsure: try again
            frame.locator("#retry").click()
            frame.locator("body[data-screen=result]").wait_for(timeout=60_000)
        expect(page.locator("#completed")).not_to_be_empty(timeout=10_000)
        page.screenshot(path=str(ARTIFACTS / "embedded.png"), full_page=True)
        reported = json.loads(page.text_content("#completed") or "{}")
        result = api(
            sdk_service,
            "GET",
            f"/v1/verification/get-session-result?verificationSessionId={reported['verificationSessionId']}",
        )
        assert reported == {
            "verificationSessionId": created["verificationSessionId"],
            "verificationResult": result["verificationResult"],
            "redirectedTo": None,  # no redirect URL: the page still tells its embedder
        }
        assert result["verificationResult"] == "Pass", result
        assert len(result["faceId"]) == 32  # no faceRecognition configured, still the person's faceId

        page.reload()  # the same, finished session again: the embedder hears that it is used
        expect(page.locator("#errors")).to_have_text("session:sessionUsed\n", timeout=10_000)
    finally:
        browser.close()
        integrator.close()


def test_headless_watch_checks_the_integrators_own_video_and_reports_a_second_person(
    sdk_service, sdk_camera, sdk_driver
):
    from playwright.sync_api import expect

    created = api(sdk_service, "POST", "/v1/verification/create-session", PASSIVE)
    page_html = HEADLESS_PAGE.format(base=sdk_service.base, token=json.dumps(created["sessionToken"]), fps=FPS)
    integrator = Integrator({"/": page_html}, {"/other.jpg": sdk_camera["other"]})
    allow(sdk_service, integrator.origin)
    browser = launch(sdk_driver, sdk_camera["live"])
    try:
        page = browser.new_page()
        page.goto(f"{integrator.origin}/")
        expect(page.locator("#completed")).to_have_text("Pass", timeout=90_000)
        checks = page.locator("#checks")
        expect(checks).to_contain_text('"samePerson":true', timeout=30_000)
        assert page.locator("iframe").count() == 0  # headless: the SDK shows nothing
        page.click("#step-in")
        expect(checks).to_contain_text('"alert":"multipleFaces"', timeout=30_000)
        page.click("#swap")
        expect(checks).to_contain_text('"alert":"faceChanged"', timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "headless.png"), full_page=True)
        assert page.text_content("#errors") == ""
        session_id = created["verificationSessionId"]
        result = api(sdk_service, "GET", f"/v1/verification/get-session-result?verificationSessionId={session_id}")
        assert [c["reason"] for c in result["checks"]] == ["multipleFaces", "faceChanged"], result["checks"]
        assert result["checks"][0]["faceCount"] == 2 and result["checks"][1]["samePerson"] is False
        # The app's own device id reached the service, which keeps only its HMAC.
        assert re.fullmatch("[0-9a-f]{64}", result["deviceId"] or ""), result["deviceId"]
    finally:
        browser.close()
        integrator.close()


def test_embedded_mount_reports_a_blocked_camera_and_an_expired_session(sdk_service, sdk_camera, sdk_driver):
    from playwright.sync_api import expect

    blocked = api(sdk_service, "POST", "/v1/verification/create-session", PASSIVE)
    expired = api(sdk_service, "POST", "/v1/verification/create-session", PASSIVE)
    session_expire_by_time(sdk_service, expired["verificationSessionId"])
    pages = {
        "/blocked": EMBEDDED_PAGE.format(base=sdk_service.base, session_url=json.dumps(blocked["sessionUrl"])),
        "/expired": EMBEDDED_PAGE.format(base=sdk_service.base, session_url=json.dumps(expired["sessionUrl"])),
    }
    integrator = Integrator(pages, {})
    allow(sdk_service, integrator.origin)
    browser = launch(sdk_driver, sdk_camera["live"], allow_camera=False)
    try:
        page = browser.new_page()
        page.goto(f"{integrator.origin}/blocked")
        page.frame_locator("iframe[data-liveproof=embedded]").locator("#consent-accept").click()
        expect(page.locator("#errors")).to_have_text("camera:cameraDenied\n", timeout=20_000)
        page.goto(f"{integrator.origin}/expired")
        expect(page.locator("#errors")).to_have_text("session:sessionExpired\n", timeout=20_000)
        expect(page.locator("#completed")).to_be_empty()
    finally:
        browser.close()
        integrator.close()


def test_the_react_component_runs_the_documents_props_with_real_react(sdk_service, sdk_camera, sdk_driver):
    from playwright.sync_api import expect

    created, react, integrator = react_site(sdk_service, REACT_PAGE, PASSIVE)
    browser = launch(sdk_driver, sdk_camera["live"])
    try:
        page = browser.new_page()
        page.goto(f"{integrator.origin}/")
        # npm's React, from node_modules (react-dom's UMD build says "18.3.1-next-…").
        assert page.evaluate("React.version") == react and page.evaluate("ReactDOM.version").startswith(react)
        frame = page.frame_locator("#app iframe[data-liveproof=embedded]")  # sessionId + accessToken: /s/<id>/?t=
        frame.locator("#consent-accept").wait_for(timeout=20_000)
        # The token lives ten minutes; the page's address now holds its page key instead, so that its own
        # reloads (Try again, a socket token that expired) still open it later (they found it unknown).
        hosted = next(f for f in page.frames if "/s/" in f.url)
        # Polled through evaluate: wait_for_function evaluates a string, which the page's CSP refuses (no eval).
        for _ in range(100):
            address = hosted.evaluate("location.search")
            if not re.search(r"[?&]t=", address):
                break
            page.wait_for_timeout(100)
        assert re.search(r"[?&]k=", address) and not re.search(r"[?&]t=", address), address
        frame.locator("#consent-accept").click()
        frame.locator("body[data-screen=result]").wait_for(timeout=60_000)
        while frame.locator("#retry").is_visible():
            frame.locator("#retry").click()
            frame.locator("body[data-screen=result]").wait_for(timeout=60_000)
        # onVerificationCompleted(sessionId), as the document's example reads it.
        expect(page.locator("#completed")).to_have_text(created["verificationSessionId"], timeout=10_000)
        expect(page.locator("#errors")).to_be_empty()
    finally:
        browser.close()
        integrator.close()
