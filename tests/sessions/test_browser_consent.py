"""Consent in real Chromium, desktop and phone: the first tap counts before the script loads, "I don't agree"
ends the session cancelled and lands on failedUrl with a signed reVerificationResult=Cancelled, and Cancel
asks once. axe-core checks each new screen; screenshots in test-artifacts/consent/."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator

import pytest

from tests.hosted_browser import (
    SIZES,
    assert_accessible,
    chromium,
    demo_session,
    hosted_app,
    session_config_edit,
    shot,
)
from tests.served import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = ROOT / "test-artifacts" / "consent"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    with hosted_app(tmp_path_factory.mktemp("server"), ARTIFACTS) as app:
        yield app


def _status(database: str, session_id: str) -> str:
    with sqlite3.connect(database) as db:
        (status,) = db.execute(
            "SELECT status FROM capture_session WHERE id = ?", (uuid.UUID(session_id).hex,)
        ).fetchone()
    return str(status)


def _script_held_back(page) -> list[str]:
    """Fail the page's script on its first load, as a slow network would leave it: the page is only HTML."""
    seen: list[str] = []

    def handle(route) -> None:
        seen.append(route.request.url)
        if len(seen) == 1:
            route.abort()
        else:
            route.continue_()

    page.route("**/static/capture/session.js", handle)
    return seen


@pytest.mark.parametrize("size", SIZES)
def test_a_tap_on_i_agree_before_the_script_has_loaded_is_not_lost(server, driver, size):
    from playwright.sync_api import expect

    browser = chromium(driver)
    page = browser.new_page(**SIZES[size])
    loads = _script_held_back(page)
    session_id = demo_session(page, server["base"])
    assert len(loads) == 1  # the consent screen is up without its script
    shot(page, ARTIFACTS, f"consent-without-script-{size}")
    assert_accessible(page, "consent screen")
    page.click("#consent-accept")
    page.wait_for_url("**&start=1")
    # The page comes back with its script and goes straight to the camera: the tap was the consent.
    expect(page.locator("body")).to_have_attribute("data-screen", "capture", timeout=15_000)
    assert len(loads) == 2 and _status(server["database"], session_id) == "in_progress"
    shot(page, ARTIFACTS, f"capture-after-early-tap-{size}")
    browser.close()


@pytest.mark.parametrize("script", [True, False], ids=["with-script", "before-script"])
def test_i_dont_agree_ends_the_session_and_lands_on_the_failed_url_signed_cancelled(server, driver, script):
    from playwright.sync_api import expect

    browser = chromium(driver)
    page = browser.new_page(**SIZES["phone" if script else "desktop"])
    if not script:
        _script_held_back(page)
    session_id = demo_session(page, server["base"])
    page.click("#consent-decline")
    if script:  # the page says so before it goes back
        expect(page.locator("#result-title")).to_have_text("Verification cancelled", timeout=10_000)
        shot(page, ARTIFACTS, "declined-with-script")
    page.wait_for_url("**/demo/return/?outcome=failed*", timeout=15_000)
    assert "reVerificationResult=Cancelled" in page.url and "reSignature=" in page.url
    expect(page.locator("#signature-check")).to_contain_text("signature valid")
    assert _status(server["database"], session_id) == "cancelled"
    shot(page, ARTIFACTS, f"declined-returned-{'with' if script else 'before'}-script")
    browser.close()


@pytest.mark.parametrize("size", SIZES)
def test_cancel_asks_once_and_no_keeps_the_capture_going(server, driver, size):
    from playwright.sync_api import expect

    browser = chromium(driver)
    page = browser.new_page(**SIZES[size])
    session_id = demo_session(page, server["base"])
    # No redirect target here, so the cancelled screen stays for the checks.
    session_config_edit(server["database"], session_id, lambda config: config.pop("redirectConfig", None))
    page.click("#consent-accept")
    expect(page.locator("body")).to_have_attribute("data-screen", "capture", timeout=15_000)
    page.click("#cancel")
    expect(page.locator("#cancel-confirm")).to_be_visible()
    expect(page.locator("#cancel-question")).to_be_focused()
    expect(page.locator("#cancel-question")).to_contain_text("Stop the verification?")
    shot(page, ARTIFACTS, f"cancel-question-{size}")
    assert_accessible(page, "cancel question")
    page.click("#cancel-no")
    expect(page.locator("#cancel-confirm")).to_be_hidden()
    expect(page.locator("#cancel")).to_be_focused()
    expect(page.locator("body")).to_have_attribute("data-screen", "capture")
    assert _status(server["database"], session_id) == "in_progress"
    page.click("#cancel")
    page.click("#cancel-yes")
    expect(page.locator("body")).to_have_attribute("data-screen", "result", timeout=10_000)
    expect(page.locator("#result-title")).to_have_text("Verification cancelled")
    expect(page.locator("#result-text")).to_contain_text("You cancelled the verification.")
    assert _status(server["database"], session_id) == "cancelled"
    shot(page, ARTIFACTS, f"cancelled-{size}")
    assert_accessible(page, "cancelled screen")
    browser.close()
