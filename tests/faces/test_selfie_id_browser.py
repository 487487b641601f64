"""The hosted /verif/ page in headless Chromium: a fake camera records the selfie, the ID photo is picked, verified."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from apps.accounts.models import ApiKey
from apps.accounts.services import api_key_create
from apps.faces.models import SelfieCheck
from apps.webhooks.event_types import EventType
from apps.webhooks.models import WebhookEvent

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def camera(tmp_path_factory) -> Path:
    from tests.face_engine import synthetic

    # A person holding still who blinks every second or so: whatever five seconds the page records,
    # they hold natural motion even when a loaded machine makes the fake camera drop frames.
    actor = synthetic.FaceActor("astronaut", fps=10, seed=5)
    frames = actor.hold(1.0)
    for _ in range(4):
        frames += actor.act("blink") + actor.hold(0.6)
    return synthetic.write_y4m(frames, tmp_path_factory.mktemp("camera") / "selfie.y4m", fps=10)


def test_the_hosted_page_records_a_selfie_and_verifies_it_against_the_id_photo(
    live_server, integrator, engine, faces, camera, tmp_path, settings
):
    from playwright.sync_api import expect, sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (scripts/test does it)")
    settings.MEDIA_ROOT = str(tmp_path / "media")
    key = api_key_create(account=integrator.account, name="page", kind=ApiKey.Kind.PUBLISHABLE).plaintext
    photo = tmp_path / "id.jpg"
    photo.write_bytes(faces.astronaut)
    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost",
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={camera.resolve()}",
    ]
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        try:
            page = browser.new_page()
            page.goto(f"{live_server.url}/verif/?api_key={key}&user_identifier=user123&user_email=u@example.com")
            page.click("#record")
            # expect() polls without eval, so the page runs under its real CSP (script-src 'self').
            expect(page.locator("#record-status")).to_have_text("Recorded.", timeout=20_000)
            page.set_input_files("#id-photo", str(photo))
            page.click("#submit")
            expect(page.locator("#status")).to_have_class(re.compile(r"^(ok|error)$"), timeout=60_000)
            status = page.text_content("#status")
        finally:
            browser.close()
    check = SelfieCheck.objects.first()
    assert check is not None, f"no check was recorded; the page said {status!r}"
    assert status == "Verified. You can close this page.", f"{status}: {json.dumps(check.result['liveness'])}"
    assert check.user_identifier == "user123" and check.user_email == "u@example.com"
    assert check.selfie_name.endswith(".webm")
    assert WebhookEvent.objects.filter(type=EventType.SELFIE_CHECK_COMPLETED).count() == 0  # no webhook URL configured
