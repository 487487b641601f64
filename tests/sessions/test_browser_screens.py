"""The hosted page between attempts and when capture is over, in real Chromium: what a new attempt starts with,
a session another tab took over, a camera another app holds. Screenshots in test-artifacts/screens/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hosted_browser import (
    SIZES,
    TRACKS_JS,
    assert_accessible,
    chromium,
    demo_session,
    hosted_app,
    session_update,
    shot,
)
from tests.served import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = ROOT / "test-artifacts" / "screens"
FPS = 10

# What the page shows at the moment it switches to the capture screen (a MutationObserver's callback runs once
# the script's handler of that message is done, before any other message is handled).
SNAPSHOT_ON_CAPTURE_JS = """() => {
  window.onCapture = [];
  new MutationObserver(() => {
    if (document.body.dataset.screen !== 'capture') return;
    const feedback = document.getElementById('feedback');
    window.onCapture.push({
      challenge: document.getElementById('challenge').textContent,
      feedback: feedback.textContent, warn: feedback.classList.contains('warn'),
      faceOk: document.body.classList.contains('face-ok'),
      progress: document.getElementById('progress').getAttribute('aria-valuenow'),
      bar: document.getElementById('progress-bar').style.width,
    });
  }).observe(document.body, {attributes: true, attributeFilter: ['data-screen']});
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    # Every verdict the engine gives is inconclusive: each attempt ends with "Try again" while attempts remain.
    with hosted_app(
        tmp_path_factory.mktemp("server"), ARTIFACTS, LIVENESS_PASS_THRESHOLD="1.0", LIVENESS_RETRY_THRESHOLD="0.0"
    ) as app:
        yield app


@pytest.fixture(scope="module")
def challenges_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A face that blinks, then turns left (looped by Chromium)."""
    from tests.face_engine import synthetic

    actor = synthetic.FaceActor("astronaut", fps=FPS, seed=9)
    clip = actor.hold(1.0) + actor.act("blink") + actor.hold(0.6) + actor.act("turn_left") + actor.hold(0.6)
    return synthetic.write_y4m(clip, tmp_path_factory.mktemp("camera") / "challenges.y4m", fps=FPS)


def test_try_again_starts_the_new_attempt_with_a_clean_screen(server, driver, challenges_video):
    """After a retry verdict nothing of the last attempt stays: not its prompt, hint, green oval or progress."""
    from playwright.sync_api import expect

    browser = chromium(driver, challenges_video)
    page = browser.new_page(**SIZES["phone"])
    session_id = demo_session(page, server["base"], "Balanced")
    session_update(server["database"], session_id, challenges=["blink", "turn_left"])
    page.click("#consent-accept")
    expect(page.locator("body")).to_have_attribute("data-screen", "result", timeout=90_000)
    expect(page.locator("#retry")).to_be_visible()
    page.evaluate(SNAPSHOT_ON_CAPTURE_JS)
    page.click("#retry")
    expect(page.locator("body")).to_have_attribute("data-screen", "capture", timeout=15_000)
    expect(page.locator("#steps")).to_have_text("Attempt 2 of 3", timeout=5_000)
    first = page.evaluate("() => window.onCapture[0]")
    assert first == {
        "challenge": "Position your face in the oval",
        "feedback": "Getting ready…",
        "warn": False,
        "faceOk": False,
        "progress": "0",
        "bar": "0%",
    }
    shot(page, ARTIFACTS, "after-try-again")
    assert_accessible(page, "new attempt")
    browser.close()


@pytest.fixture(scope="module")
def face_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.face_engine import synthetic

    actor = synthetic.FaceActor("astronaut", fps=FPS, seed=6)
    return synthetic.write_y4m(actor.hold(4.0), tmp_path_factory.mktemp("face") / "face.y4m", fps=FPS)


def test_a_session_another_tab_takes_over_says_so_turns_the_camera_off_and_does_not_take_it_back(
    server, driver, face_video
):
    from playwright.sync_api import expect

    browser = chromium(driver, face_video)
    context = browser.new_context(**SIZES["desktop"])
    first = context.new_page()
    demo_session(first, server["base"])
    address = first.url
    first.click("#consent-accept")
    expect(first.locator("body")).to_have_attribute("data-screen", "capture", timeout=20_000)
    assert first.evaluate(TRACKS_JS) == ["live"]
    second = context.new_page()
    second.goto(address)
    second.click("#consent-accept")
    expect(second.locator("body")).to_have_attribute("data-screen", "capture", timeout=20_000)
    # The first tab: closed with 4411, it says where the verification went, and its camera is off.
    expect(first.locator("body")).to_have_attribute("data-screen", "superseded", timeout=15_000)
    expect(first.locator("#superseded-title")).to_have_text("This verification continued in another window or device")
    expect(first.locator("#superseded-title")).to_be_focused()
    assert first.evaluate(TRACKS_JS) == ["ended"]
    shot(first, ARTIFACTS, "superseded")
    assert_accessible(first, "superseded")
    # Neither tab takes the session back by itself.
    second.wait_for_timeout(3_000)
    expect(first.locator("body")).to_have_attribute("data-screen", "superseded")
    expect(second.locator("body")).to_have_attribute("data-screen", "capture")
    # Continue here (the person's own tap): the camera and the session come back here; the other tab stops.
    first.click("#superseded-continue")
    expect(first.locator("body")).to_have_attribute("data-screen", "capture", timeout=20_000)
    assert first.evaluate(TRACKS_JS) == ["live"]
    expect(second.locator("body")).to_have_attribute("data-screen", "superseded", timeout=15_000)
    assert second.evaluate(TRACKS_JS) == ["ended"]
    browser.close()


# A camera another app holds: getUserMedia fails with NotReadableError while window.cameraBusy is true.
CAMERA_BUSY_JS = """
  const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  window.cameraBusy = true;
  navigator.mediaDevices.getUserMedia = (constraints) => window.cameraBusy
    ? Promise.reject(new DOMException('Could not start video source', 'NotReadableError')) : real(constraints);
"""


def test_a_camera_another_app_holds_says_so_and_try_again_asks_for_it_again(server, driver, face_video):
    from playwright.sync_api import expect

    browser = chromium(driver, face_video)
    page = browser.new_page(**SIZES["phone"])
    page.add_init_script(CAMERA_BUSY_JS)
    demo_session(page, server["base"])
    page.click("#consent-accept")
    expect(page.locator("body")).to_have_attribute("data-screen", "camera-in-use", timeout=10_000)
    expect(page.locator("#in-use-title")).to_have_text("Your camera is being used by another app")
    expect(page.locator("#in-use-title")).to_be_focused()
    shot(page, ARTIFACTS, "camera-in-use")
    assert_accessible(page, "camera in use")
    page.evaluate("() => { window.cameraBusy = false; }")  # the other app let go of it
    page.evaluate("() => { window.notReloaded = true; }")
    page.click("section[data-name=camera-in-use] button.primary")
    expect(page.locator("body")).to_have_attribute("data-screen", "capture", timeout=20_000)
    assert page.evaluate(TRACKS_JS) == ["live"]
    assert page.evaluate("() => window.notReloaded === true")
    browser.close()


def test_a_camera_in_use_is_said_in_each_language(server, driver):
    from playwright.sync_api import expect

    titles = {
        "de": "Ihre Kamera wird von einer anderen App verwendet",
        "fr": "Votre caméra est utilisée par une autre application",
        "es": "Otra aplicación está usando tu cámara",
        "pt-BR": "Sua câmera está sendo usada por outro aplicativo",
        "ar": "الكاميرا قيد الاستخدام من قِبل تطبيق آخر",
    }
    browser = chromium(driver)
    page = browser.new_page(**SIZES["desktop"])
    page.add_init_script(CAMERA_BUSY_JS)
    demo_session(page, server["base"])
    address = page.url
    for locale, title in titles.items():
        page.goto(f"{address}&locale={locale}")
        page.click("#consent-accept")
        expect(page.locator("#in-use-title")).to_have_text(title, timeout=10_000)
    browser.close()
