"""The hosted pages' words and languages in real Chromium, on a desktop and a phone, with axe-core on every screen.

The app runs as ``scripts/run`` starts it (embedded default) on 127.0.0.1, the demo integrator creates the
sessions, and a test sets the session row where a real capture cannot be steered (a retry waiting, a
language). Screenshots go to test-artifacts/words/.
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from apps.sessions.page_texts import FEEDBACK, REASONS
from tests.hosted_browser import (
    SIZES,
    assert_accessible,
    chromium,
    demo_session,
    hosted_app,
    session_config_edit,
    session_update,
    shot,
)
from tests.served import ROOT, manage

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = ROOT / "test-artifacts" / "words"
FPS = 10
# Every code the API may send: none may reach the screen.
CODES = sorted({*FEEDBACK, *REASONS} - {"ok", "cancelled", "timeout"}, key=len, reverse=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    with hosted_app(tmp_path_factory.mktemp("server"), ARTIFACTS, DIRECT_SESSIONS_ENABLED="true") as app:
        key = manage(json.loads(app["env"]), "create_api_key", "Words shop", "--publishable").strip().splitlines()[-1]
        yield {**app, "publishable": key}


@pytest.fixture(scope="module")
def attack_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.face_engine import synthetic

    folder = tmp_path_factory.mktemp("camera")
    attack = synthetic.attack_sequence("print_moved", seconds=8, fps=FPS)
    return synthetic.write_y4m(attack, folder / "attack.y4m", fps=FPS)


def _set_locale(database: str, session_id: str, locale: str) -> None:
    session_config_edit(
        database,
        session_id,
        lambda config: config["verifierConfigs"].setdefault("commonSettings", {}).update(locale=locale),
    )


def _no_codes_on_screen(page) -> None:
    text = page.inner_text("body")
    shown = [code for code in CODES if re.search(rf"(?<![\w:]){re.escape(code)}(?![\w:])", text)]
    assert shown == [], text


@pytest.mark.parametrize("size", SIZES)
def test_the_retry_screen_says_why_and_what_to_change_in_the_sessions_language(server, driver, size):
    from playwright.sync_api import expect

    browser = chromium(driver)
    page = browser.new_page(**SIZES[size])
    session_id = demo_session(page, server["base"], "Balanced")
    # The first attempt ended inconclusive: a nod was never seen before the time ran out.
    session_update(
        server["database"], session_id, status="in_progress", verdict="retry", attempt=1, max_attempts=3,
        verification_failed_reasons=["challengeFailed:nod", "timeout"],
    )  # fmt: skip
    _set_locale(server["database"], session_id, "de")
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    page.click("#consent-accept")
    expect(page.locator("body")).to_have_attribute("data-screen", "result", timeout=20_000)
    expect(page.locator("#result-title")).to_have_text("Versuchen wir es noch einmal")
    expect(page.locator("#result-text")).to_have_text("Noch 2 Versuche.")
    expect(page.locator("#result-why-title")).to_have_text("Was Sie ändern können:")
    expect(page.locator("#result-reasons li")).to_have_text(
        [
            "Wir haben Sie nicht nicken sehen. Senken Sie auf Aufforderung das Kinn und heben Sie es wieder.",
            "Die Zeit ist abgelaufen. Folgen Sie jeder Anweisung, sobald sie erscheint.",
        ]
    )
    expect(page.locator("#retry")).to_be_visible()
    _no_codes_on_screen(page)
    shot(page, ARTIFACTS, f"retry-de-{size}")
    assert_accessible(page, f"retry screen ({size})")
    browser.close()


def test_a_failed_capture_says_what_happened_in_words_on_a_phone_in_spanish(server, driver, attack_video):
    from playwright.sync_api import expect

    browser = chromium(driver, attack_video)
    context = browser.new_context(locale="es-ES", **SIZES["phone"])
    page = context.new_page()
    session_id = demo_session(page, server["base"])
    session_update(server["database"], session_id, max_attempts=1)  # an inconclusive photo must fail, not retry
    expect(page.locator("#consent-title")).to_have_text("Confirma que eres tú")
    page.click("#consent-accept")
    expect(page.locator("body")).to_have_attribute("data-screen", "capture", timeout=15_000)
    expect(page.locator("#feedback")).not_to_have_text("Preparando…", timeout=20_000)
    shot(page, ARTIFACTS, "capture-es-phone")
    assert_accessible(page, "capture screen")
    _no_codes_on_screen(page)
    expect(page.locator("body")).to_have_attribute("data-screen", "result", timeout=60_000)
    expect(page.locator("#result-title")).to_have_text("La verificación no se superó")
    expect(page.locator("#result-why-title")).to_have_text("Qué pasó:")
    reasons = page.locator("#result-reasons li").all_inner_texts()
    assert reasons and all(text in {str(v) for v in _spanish_reasons()} for text in reasons), reasons
    _no_codes_on_screen(page)
    shot(page, ARTIFACTS, "failed-es-phone")
    assert_accessible(page, "failure screen")
    browser.close()


def _spanish_reasons() -> list[str]:
    from django.utils import translation

    with translation.override("es"):
        return [str(text) for text in REASONS.values()]


@pytest.mark.parametrize("size", SIZES)
def test_arabic_pages_are_laid_out_right_to_left(server, driver, size):
    from playwright.sync_api import expect

    browser = chromium(driver, camera=False)
    context = browser.new_context(locale="ar", **SIZES[size])
    page = context.new_page()
    demo_session(page, server["base"])
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("#consent-title")).to_have_text("أكّد أنك أنت")
    assert page.eval_on_selector("#consent-title", "el => getComputedStyle(el).direction") == "rtl"
    # The list's bullets sit on the right: its padding is on the start side, which is the right in Arabic.
    padding = page.eval_on_selector(
        ".tips", "el => [getComputedStyle(el).paddingRight, getComputedStyle(el).paddingLeft]"
    )
    assert float(padding[0].rstrip("px")) > float(padding[1].rstrip("px")), padding
    shot(page, ARTIFACTS, f"consent-ar-{size}")
    assert_accessible(page, f"Arabic consent ({size})")
    page.click("#consent-accept")
    expect(page.locator("body")).to_have_attribute("data-screen", "camera-denied", timeout=10_000)
    expect(page.locator("#denied-title")).to_have_text("تم حظر الوصول إلى الكاميرا")
    shot(page, ARTIFACTS, f"camera-denied-ar-{size}")
    assert_accessible(page, f"Arabic camera-denied ({size})")
    browser.close()


# Screens a test cannot hold still long enough for axe (they last a moment), shown as the page's script shows them.
_SHOW_JS = """(name) => {
  document.querySelectorAll('.screen').forEach(s => { s.hidden = s.getAttribute('data-name') !== name; });
  document.body.setAttribute('data-screen', name);
}"""


@pytest.mark.parametrize("size", SIZES)
def test_every_hosted_screen_has_no_serious_accessibility_violation(server, driver, size):
    from playwright.sync_api import expect

    browser = chromium(driver)
    page = browser.new_page(**SIZES[size])
    base = server["base"]
    session_id = demo_session(page, base)
    link = page.url
    assert_accessible(page, "consent")
    shot(page, ARTIFACTS, f"a11y-consent-{size}")
    page.click("#consent-accept")
    expect(page.locator("body")).to_have_attribute("data-screen", "capture", timeout=15_000)
    assert_accessible(page, "capture")
    for screen in ("camera", "analysing", "camera-missing", "connection", "expired"):
        page.evaluate(_SHOW_JS, screen)
        assert_accessible(page, screen)
        shot(page, ARTIFACTS, f"a11y-{screen}-{size}")
    checks = [
        (f"{base}/s/{uuid.uuid4()}/?k=wrong", 404, "unknown session"),
        (f"{base}/v/{uuid.uuid4()}", 404, "unknown hosted link"),
        (f"{base}/v/not-a-link", 404, "malformed hosted link"),
        (f"{base}/direct/", 200, "direct session"),
        (f"{base}/verif/?user_identifier=u", 400, "/verif/ without its key"),
        (f"{base}/verif/?api_key={server['publishable']}&user_identifier=u", 200, "/verif/"),
    ]
    for url, status, what in checks:
        response = page.goto(url)
        assert response is not None and response.status == status, what
        assert_accessible(page, what)
        shot(page, ARTIFACTS, f"a11y-{re.sub(r'[^a-z]+', '-', what).strip('-')}-{size}")
    for status_value, expires, what in (("completed", None, "used"), ("created", "2000-01-01 00:00:00", "expired")):
        session_update(server["database"], session_id, status=status_value)
        if expires:
            session_update(server["database"], session_id, expires_at=expires)
        response = page.goto(link)
        assert response is not None and response.status == 410
        assert_accessible(page, f"{what} session")
        shot(page, ARTIFACTS, f"a11y-{what}-session-{size}")
    browser.close()


def test_try_again_works_after_the_socket_is_gone(server, driver):
    """The result came from the status poll (the server closed the socket): "Try again" opens a new socket and
    starts the next attempt, instead of doing nothing."""
    from playwright.sync_api import expect

    browser = chromium(driver)
    page = browser.new_page(**SIZES["desktop"])
    session_id = demo_session(page, server["base"], "Balanced")
    session_update(
        server["database"], session_id, status="in_progress", verdict="retry", attempt=1, max_attempts=3,
        verification_failed_reasons=["challengeFailed:nod", "timeout"],
    )  # fmt: skip
    sockets = []

    def first_one_closed(ws) -> None:  # another tab took over (4411): the page falls back to the status poll
        sockets.append(ws)
        if len(sockets) == 1:
            ws.close(code=4411)
        else:
            ws.connect_to_server()

    page.route_web_socket(re.compile(r".*/ws/v1/sessions/.*"), first_one_closed)
    page.reload()
    page.click("#consent-accept")
    expect(page.locator("body")).to_have_attribute("data-screen", "result", timeout=20_000)
    expect(page.locator("#retry")).to_be_visible()
    page.click("#retry")
    expect(page.locator("body")).to_have_attribute("data-screen", "capture", timeout=20_000)
    assert len(sockets) == 2
    browser.close()


def test_a_session_that_expires_while_the_page_is_open_shows_the_expired_screen(server, driver):
    """The socket's result for an expiry mid-capture (``sessionExpired``) shows what a session found expired on
    arrival shows, and tells an embedder the same: it was shown as a failed verification."""
    from datetime import UTC, datetime, timedelta

    from playwright.sync_api import expect

    browser = chromium(driver)
    page = browser.new_page(**SIZES["desktop"])
    session_id = demo_session(page, server["base"], "Balanced")
    soon = datetime.now(UTC) + timedelta(seconds=6)
    session_update(server["database"], session_id, expires_at=soon.strftime("%Y-%m-%d %H:%M:%S.%f"))
    page.click("#consent-accept")
    expect(page.locator("body")).to_have_attribute("data-screen", "capture", timeout=20_000)
    expect(page.locator("body")).to_have_attribute("data-screen", "expired", timeout=30_000)
    expect(page.locator("#expired-title")).to_be_visible()
    assert page.locator("#result-title").is_hidden()
    shot(page, ARTIFACTS, "expired-while-open")
    browser.close()


@pytest.fixture(scope="module")
def short_tokens(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The app with socket tokens that live 4 s, so that a resume token expires within a test."""
    with hosted_app(tmp_path_factory.mktemp("short"), ARTIFACTS, SESSION_TOKEN_TTL_SECONDS="4") as app:
        yield app


def test_a_socket_whose_resume_token_expired_reconnects_without_a_reload(short_tokens, driver):
    """A socket that drops after its resume token expired (ten minutes; 4 s here; the fresh ones the socket
    sends meanwhile are lost) is refused tokenExpired: the page asks for a fresh token with its page key and
    carries on. It reloaded itself, spending the attempt under way, and a second time in that tab showed
    "expired" for a session that was not."""
    from playwright.sync_api import expect

    browser = chromium(driver)
    page = browser.new_page(**SIZES["desktop"])
    session_id = demo_session(page, short_tokens["base"], "Balanced")
    sockets: list = []

    def keep(ws) -> None:  # the socket's fresh resume tokens ({"type": "token"}) are lost on the way
        sockets.append(ws)
        server = ws.connect_to_server()
        server.on_message(lambda message: None if '"type": "token"' in str(message) else ws.send(message))

    page.route_web_socket(re.compile(r".*/ws/v1/sessions/.*"), keep)
    page.reload()
    page.evaluate("window.notReloaded = true")
    page.click("#consent-accept")
    expect(page.locator("body")).to_have_attribute("data-screen", "capture", timeout=20_000)
    for drop in range(2):  # twice: the old page reloaded once per tab, then called the session expired
        count = len(sockets)
        page.wait_for_timeout(5_000)  # the resume token (4 s) is dead
        sockets[-1].close(code=4000)  # the network drops the socket
        deadline = 20
        while len(sockets) < count + 2 and deadline:  # refused with the dead token, then the fresh one
            page.wait_for_timeout(1_000)
            deadline -= 1
        assert len(sockets) >= count + 2, (drop, len(sockets))
        assert page.evaluate("window.notReloaded === true"), "the page reloaded itself"
    expect(page.locator("body")).to_have_attribute("data-screen", "capture")
    with sqlite3.connect(short_tokens["database"]) as db:
        (attempt,) = db.execute(
            "SELECT attempt FROM capture_session WHERE id = ?", (uuid.UUID(session_id).hex,)
        ).fetchone()
    assert attempt == 1
    browser.close()
