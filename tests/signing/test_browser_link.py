"""The whole hosted-link flow in real Chromium: signed link -> verification -> signed redirect -> Valid.

Reuses the sessions area's browser harness (daphne on 127.0.0.1 with an SQLite
file, Debian's Chromium with a fake camera fed from a synthetic live face).
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.served import embedded_env, manage
from tests.sessions.test_browser import FPS, _browser, _retry_while_unsure, _run_to_result, _session_row, _shot
from tests.sessions.test_browser import playwright_driver as playwright_driver
from tests.sessions.test_browser import server as server

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def live_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short live clip (Chromium loops it): one video, not the harness's three."""
    from tests.face_engine import synthetic

    actor = synthetic.FaceActor("astronaut", fps=FPS, seed=5)
    frames = actor.hold(1.0) + actor.act("blink") + actor.hold(0.6) + actor.act("blink") + actor.hold(0.6)
    return synthetic.write_y4m(frames, tmp_path_factory.mktemp("camera") / "live.y4m", fps=FPS)


def _api(base: str, key: str, method: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"{base}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Authorization": f"ApiKey {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _api_key(server: dict[str, str]) -> str:
    """A key of the demo account (its return page shows the session's result)."""
    env = embedded_env(Path(server["database"]), server["base"])
    return manage(env, "create_api_key", "Demo integrator", "--name", "signing browser test").strip().splitlines()[-1]


def test_a_signed_one_time_link_ends_on_a_signed_redirect_that_validates(server, live_video, playwright_driver):
    base = server["base"]
    key = _api_key(server)
    config = {
        "verifierConfigs": {
            "liveness": {"type": "Verification", "challengeType": "Passive"},
            "commonSettings": {"maxAttempts": 3},
        },
        "redirectConfig": {
            "passedUrl": f"{base}/demo/return/?outcome=passed",
            "failedUrl": f"{base}/demo/return/?outcome=failed",
        },
        "resultParameterConfig": {
            "includeSignature": True,
            "includeSessionId": True,
            "includeVerificationResult": True,
            "includeLivenessCheckResult": True,
            "includeCustomInputParameters": True,
        },
        "securityConfig": {"forceSignedInput": True},
    }
    vid = _api(base, key, "POST", "/v1/verification/create", {"name": "Signed link", "verificationConfig": config})[
        "verificationId"
    ]
    signed = _api(
        base,
        key,
        "POST",
        "/v1/signature/create",
        {"queryString": "userId=user123", "securitySettings": {"enableNonce": True}},
    )["signedQueryString"]
    link = f"{base}/v/{vid}?{signed}"

    browser = _browser(playwright_driver, live_video)
    page = browser.new_page(bypass_csp=True)
    page.goto(link)
    page.wait_for_selector("body[data-screen=consent]")
    _run_to_result(page, "signed-link")
    _retry_while_unsure(page, "signed-link")
    assert page.text_content("#result-title") == "Verified", _session_row(server["database"])
    page.wait_for_url("**/demo/return/?outcome=passed*", timeout=10_000)
    _shot(page, "signed-link-returned")

    query = urlsplit(page.url).query
    params = dict(parse_qsl(query))
    assert params["userId"] == "user123" and params["reVerificationResult"] == "passed"
    assert list(dict(parse_qsl(query)))[-1] == "reSignature"
    assert _api(base, key, "POST", "/v1/signature/validate", {"queryString": query}) == {"result": "Valid"}
    tampered = query.replace("reVerificationResult=passed", "reVerificationResult=failed")
    assert _api(base, key, "POST", "/v1/signature/validate", {"queryString": tampered}) == {
        "result": "InvalidSignature"
    }

    # The link's nonce was consumed by the session: opening it again is refused.
    again = page.goto(link)
    assert again is not None and again.status == 410
    assert "already been used" in (page.text_content("h1") or "")
    _shot(page, "signed-link-used")
    assert _api(base, key, "POST", "/v1/signature/validate", {"queryString": signed}) == {"result": "NonceAlreadyUsed"}
    browser.close()
