"""The integrator's brand in real Chromium, desktop and phone: the consent and result screens show its name,
logo (served by us), accent colour on the buttons and its privacy and support links; axe-core finds no serious
violation. Screenshots in test-artifacts/branding/."""

from __future__ import annotations

import hashlib
import io
import sqlite3
from collections.abc import Iterator

import pytest

from tests.hosted_browser import SIZES, assert_accessible, chromium, demo_session, hosted_app, session_config_edit, shot
from tests.served import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = ROOT / "test-artifacts" / "branding"
ACCENT = "#6b1d8f"  # 9.6:1 against white


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    with hosted_app(tmp_path_factory.mktemp("server"), ARTIFACTS) as app:
        yield app


def _logo(database: str) -> str:
    """A PNG logo stored as the API stores one; its id."""
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (160, 48), (107, 29, 143))
    ImageDraw.Draw(picture).ellipse((8, 8, 40, 40), fill=(255, 255, 255))
    out = io.BytesIO()
    picture.save(out, "PNG")
    data = out.getvalue()
    sha = hashlib.sha256(data).hexdigest()
    with sqlite3.connect(database) as db:
        db.execute(
            "INSERT OR IGNORE INTO accounts_brandlogo (sha256, content_type, data, created_at) "
            "VALUES (?, 'image/png', ?, datetime('now'))",
            (sha, data),
        )
    return sha


@pytest.mark.parametrize("size", SIZES)
def test_the_consent_and_result_screens_show_the_brand(server, driver, size):
    from playwright.sync_api import expect

    logo_id = _logo(server["database"])
    branding = {
        "displayName": "Acme Bank",
        "logoId": logo_id,
        "accentColor": ACCENT,
        "privacyPolicyUrl": "https://acme.example/privacy",
        "supportUrl": "https://acme.example/help",
    }

    def edit(config: dict) -> None:
        config["brandingConfig"] = branding
        config.pop("redirectConfig", None)  # the result screen stays for the checks

    browser = chromium(driver)
    page = browser.new_page(**SIZES[size])
    session_id = demo_session(page, server["base"])
    session_config_edit(server["database"], session_id, edit)
    page.reload()
    for screen in ("consent", "result"):
        section = page.locator(f'.screen[data-name="{screen}"]')
        expect(section).to_be_visible(timeout=15_000)
        expect(section.locator(".brand-name")).to_have_text("Verification for Acme Bank")
        logo = section.locator(".brand-logo")
        expect(logo).to_have_attribute("src", f"/brand/logo/{logo_id}")
        assert logo.evaluate("img => img.complete && img.naturalWidth") == 160  # loaded, from us
        expect(section.get_by_role("link", name="Privacy policy")).to_have_attribute(
            "href", "https://acme.example/privacy"
        )
        expect(section.get_by_role("link", name="Help and support")).to_have_attribute(
            "href", "https://acme.example/help"
        )
        button = section.locator("button.primary:visible, a.primary:visible").first
        if screen == "consent":
            colours = button.evaluate("b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).color]")
            assert colours == ["rgb(107, 29, 143)", "rgb(255, 255, 255)"]
        shot(page, ARTIFACTS, f"{screen}-{size}")
        assert_accessible(page, f"branded {screen} screen")
        if screen == "consent":
            page.click("#consent-decline")  # ends it cancelled: the result screen
            expect(page.locator("#result-title")).to_have_text("Verification cancelled", timeout=10_000)
    browser.close()
