"""Continue on a phone in real Chromium: a laptop without a camera shows a QR code and a short code, a phone
(another browser, a fake camera) types the code at /go/ and passes, and the laptop gets the result and its
redirect. axe-core checks the new screens; screenshots in test-artifacts/handoff/."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hosted_browser import (
    DESKTOP,
    PHONE,
    assert_accessible,
    chromium,
    demo_session,
    hosted_app,
    session_update,
    shot,
)
from tests.served import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = ROOT / "test-artifacts" / "handoff"
FPS = 10


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    with hosted_app(tmp_path_factory.mktemp("server"), ARTIFACTS) as app:
        yield app


@pytest.fixture(scope="module")
def live_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.face_engine import synthetic

    actor = synthetic.FaceActor("astronaut", fps=FPS, seed=5)
    frames = actor.hold(1.0)
    for _ in range(4):
        frames += actor.act("blink") + actor.hold(0.6)
    return Path(synthetic.write_y4m(frames, tmp_path_factory.mktemp("camera") / "live.y4m", fps=FPS))


def _pass_on_phone(phone) -> None:
    """Agree, look at the camera; press "Try again" while the engine is unsure (a loaded machine drops frames)."""
    phone.click("#consent-accept")
    phone.wait_for_selector("body[data-screen=capture]", timeout=15_000)
    for _ in range(3):
        phone.wait_for_selector("body[data-screen=result]", timeout=60_000)
        if not phone.is_visible("#retry"):
            return
        phone.click("#retry")
        phone.wait_for_selector("body:not([data-screen=result])", timeout=10_000)


def test_a_laptop_without_a_camera_hands_the_session_to_a_phone_and_gets_the_result(server, driver, live_video):
    laptop_browser = chromium(driver, camera=False)
    phone_browser = chromium(driver, live_video)
    laptop = laptop_browser.new_page(**DESKTOP)
    session_id = demo_session(laptop, server["base"])
    session_update(server["database"], session_id, max_attempts=3)
    laptop.wait_for_selector("body[data-screen=consent]")
    laptop.click("[data-screen=consent] [data-action=handoff]")
    laptop.wait_for_selector("body[data-screen=handoff]")
    code = (laptop.text_content("#handoff-code") or "").strip()
    assert len(code) == 9 and code[4] == "-", code
    assert (laptop.get_attribute("#handoff-qr", "src") or "").startswith("data:image/svg+xml")
    assert laptop.text_content("#handoff-address") == f"{server['base']}/go/"
    assert laptop.is_visible("#handoff-waiting") and not laptop.is_visible("#handoff-active")
    shot(laptop, ARTIFACTS, "laptop-code")
    assert_accessible(laptop, "handoff screen")

    # The phone: a browser of its own (no cookie, no page key), the code typed by hand.
    phone = phone_browser.new_page(**PHONE)
    phone.goto(f"{server['base']}/go/")
    shot(phone, ARTIFACTS, "phone-enter")
    assert_accessible(phone, "code entry page")
    phone.fill("#handoff-code", code.lower())
    phone.click("#handoff-continue")
    phone.wait_for_url(f"**/s/{session_id}/?k=*&handoff=1")
    phone.wait_for_selector("body[data-screen=consent]")
    assert not phone.is_visible("[data-action=handoff]")
    _pass_on_phone(phone)
    shot(phone, ARTIFACTS, "phone-result")
    assert phone.text_content("#result-title") == "Verified", phone.text_content("#result-text")
    # The phone stays put and says where to go; the redirect is the laptop's.
    assert phone.is_visible("#handed-off-note") and not phone.is_visible("#continue")
    # The laptop followed on its status poll (every 2 s): it showed the result and, 2.5 s later, went to the
    # integrator's passedUrl, whose page shows what get-session-result answers.
    laptop.wait_for_url("**/demo/return/?outcome=passed*", timeout=20_000)
    shot(laptop, ARTIFACTS, "laptop-returned")
    returned = json.loads(laptop.text_content("#result-json") or "{}")
    assert returned["verificationSessionId"] == session_id and returned["verificationResult"] == "Pass"
    assert f"/s/{session_id}/" in phone.url and phone.get_attribute("body", "data-screen") == "result"
    # The code was spent: a second phone gets the entry page's refusal.
    other = phone_browser.new_page(**PHONE)
    other.goto(f"{server['base']}/go/?code={code.replace('-', '')}")
    other.click("#handoff-continue")
    other.wait_for_selector("body[data-screen=handoff-invalid]")
    shot(other, ARTIFACTS, "phone-code-used")
    laptop_browser.close()
    phone_browser.close()


def test_the_laptop_shows_that_the_phone_has_started(server, driver, live_video):
    laptop_browser = chromium(driver, camera=False)
    laptop = laptop_browser.new_page(**DESKTOP)
    session_id = demo_session(laptop, server["base"])
    laptop.click("[data-screen=consent] [data-action=handoff]")
    laptop.wait_for_selector("body[data-screen=handoff]")
    # The phone's socket started the session (what connecting does): the laptop says to carry on there.
    session_update(server["database"], session_id, status="in_progress")
    laptop.wait_for_selector("#handoff-active", state="visible", timeout=10_000)
    assert not laptop.is_visible("#handoff-waiting") and not laptop.is_visible("#handoff-qr")
    shot(laptop, ARTIFACTS, "laptop-following")
    assert_accessible(laptop, "handoff screen, following")
    laptop_browser.close()
