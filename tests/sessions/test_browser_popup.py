"""The hosted page opened as a popup by an integrator's page, in real Chromium: it keeps ``window.opener``,
through the consent form's redirect too, so the final page can post ``{redirectedTo}`` to its opener
(docs/signing.md, "Embedding the hosted page")."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.hosted_browser import chromium, demo_session, hosted_app
from tests.served import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = ROOT / "test-artifacts" / "popup"
INTEGRATOR = "http://shop.test"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    with hosted_app(tmp_path_factory.mktemp("server"), ARTIFACTS) as app:
        yield app


def test_the_hosted_page_opened_as_a_popup_keeps_its_opener(server, driver):
    browser = chromium(driver)
    context = browser.new_context()
    # The integrator's page, on an origin of its own.
    context.route(f"{INTEGRATOR}/**", lambda route: route.fulfill(body="<!doctype html><title>Shop</title>"))
    demo = context.new_page()
    demo_session(demo, server["base"])
    session_url = demo.url
    shop = context.new_page()
    shop.goto(f"{INTEGRATOR}/checkout")
    with context.expect_page() as opened:
        shop.evaluate("(url) => { window.open(url); }", session_url)
    popup = opened.value
    popup.wait_for_load_state()
    assert popup.url.startswith(server["base"])
    assert popup.evaluate("() => window.opener !== null"), "the popup lost its opener"
    # The consent form's answer as a browser without the script gets it (303 back to the page) keeps it too.
    popup.evaluate("() => document.querySelector('#consent-accept').form.submit()")
    popup.wait_for_url("**&start=1")
    assert popup.evaluate("() => window.opener !== null"), "the popup lost its opener after consent"
    browser.close()
