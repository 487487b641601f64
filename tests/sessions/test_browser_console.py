"""The integrator's and the operator's screens in real headless Chromium (Debian's), desktop and phone sizes.

Swagger UI's create-session example executed as shown, the demo return page's
signature check, the admin's session console (attempts, timeline, filters, dashboard)
and the branding on the hosted page. The app runs as ``scripts/run`` starts it (the
embedded default, under its real CSP). Screenshots go to test-artifacts/console/.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.served import ROOT, embedded_env, free_port, manage, migrate, serving, wait_until_healthy

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = ROOT / "test-artifacts" / "console"
CHROMIUM = "/usr/bin/chromium"
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (scripts/test does it)")
    folder = tmp_path_factory.mktemp("console")
    database = folder / "console.sqlite3"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = embedded_env(database, base, DEMO_MODE="true", DEBUG="true")
    migrate(env)
    printed = manage(env, "demo_setup", "--base-url", base)
    manage(env, "verification_examples_setup")
    # Before the server starts: its in-process periodic jobs write to the same SQLite file.
    seeded = manage(env, "shell", "-c", _SEED_SCRIPT).strip().splitlines()[-1].split()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with serving(env, port, ARTIFACTS / "daphne.log") as process:
        wait_until_healthy(process, base, ARTIFACTS / "daphne.log")
        yield {
            "base": base,
            "database": str(database),
            "key": re.search(r"Demo API key: (\S+)", printed).group(1),  # type: ignore[union-attr]
            "password": re.search(r"login: admin / (\S+)\)", printed).group(1),  # type: ignore[union-attr]
            "env": env,  # type: ignore[dict-item]
            "console_session": seeded[0],
            "console_verdict": seeded[1],
        }


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        launched = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        yield launched
        launched.close()


@pytest.fixture(params=list(SIZES))
def page(request: pytest.FixtureRequest, browser) -> Iterator[object]:
    context = browser.new_context(viewport=SIZES[request.param], is_mobile=request.param == "phone")
    opened = context.new_page()
    opened.size_name = request.param
    errors: list[str] = []
    opened.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    yield opened
    context.close()
    csp = [e for e in errors if "Content Security Policy" in e]
    assert not csp, csp


def _shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}-{page.size_name}.png"), full_page=True)


def _demo_session(database: str) -> str:
    with sqlite3.connect(database) as db:
        row = db.execute(
            "SELECT s.id FROM capture_session s JOIN accounts_account a ON a.id = s.account_id "
            "WHERE a.name = 'Demo integrator' ORDER BY s.created_at DESC LIMIT 1"
        ).fetchone()
    return str(uuid.UUID(row[0]))


# --- item 7: examples that work as shown, a checked signature ---------------------------------------------------


def test_swagger_uis_create_session_example_executes_as_shown_and_answers_200(server, page):
    from playwright.sync_api import expect

    page.goto(f"{server['base']}/swagger/")
    page.get_by_role("button", name=re.compile("Authorize")).first.click()
    scheme = page.locator(".dialog-ux .auth-container", has_text="ApiKey").first
    scheme.locator("input").first.fill(f"ApiKey {server['key']}")
    scheme.locator("button.authorize").click()
    page.locator(".dialog-ux").get_by_role("button", name="Close").first.click()
    operation = page.locator("#operations-verification-verification_create_session_create")
    if not operation.count():
        operation = page.locator(".opblock", has_text="/v1/verification/create-session").first
    operation.locator(".opblock-summary").first.click()
    operation.get_by_role("button", name="Try it out").click()
    expect(operation.locator("textarea.body-param__text")).to_contain_text("Passive")
    # By keyboard: on a phone, Swagger UI's operation headers overlap the button for a pointer.
    operation.get_by_role("button", name="Execute").press("Enter")
    live = operation.locator(".live-responses-table .response .response-col_status").first
    expect(live).to_have_text("200", timeout=15_000)
    expect(operation.locator(".live-responses-table")).to_contain_text("sessionUrl")
    _shot(page, "swagger-create-session")


def test_the_demo_return_page_says_signature_valid_and_refuses_a_changed_parameter(server, page):
    from playwright.sync_api import expect

    page.goto(f"{server['base']}/demo/")
    page.check("input[name=challengeType][value=Passive]")
    page.click("button[type=submit]")
    page.wait_for_url("**/s/*/?k=*")
    session_id = _demo_session(server["database"])
    printed = manage(server["env"], "shell", "-c", _REDIRECT_SCRIPT.format(session_id=session_id))  # type: ignore[arg-type]
    redirect = printed.strip().splitlines()[-1]
    page.goto(redirect)
    expect(page.locator("#signature-check")).to_have_text(re.compile("signature valid"))
    expect(page.locator("#signature-check")).to_have_attribute("data-outcome", "Valid")
    _shot(page, "demo-return-signature-valid")
    tampered = redirect.replace("outcome=passed", "outcome=failed")
    assert tampered != redirect
    page.goto(tampered)
    expect(page.locator("#signature-check")).to_have_attribute("data-outcome", "InvalidSignature")
    expect(page.locator("#signature-check")).to_contain_text("not valid")
    _shot(page, "demo-return-signature-invalid")
    assert urlsplit(redirect).path == "/demo/return/"


# The session is finished as the verdict would finish it; the redirect is the one the hosted page sends the browser to.
_REDIRECT_SCRIPT = (
    "from apps.sessions.models import Session\n"
    "from apps.sessions.result_redirect import result_redirect_url\n"
    "Session.objects.filter(id='{session_id}').update(status='completed', verification_result='Pass')\n"
    "print(result_redirect_url(session=Session.objects.get(id='{session_id}')))\n"
)


# --- item 6: the operator console ----------------------------------------------------------------------------------

# A real capture (the real engine on synthetic webcam frames) kept as two attempts of one session, written by the
# attempt service as the verdict writes them, plus a failed session and a webhook delivery.
_SEED_SCRIPT = """
from apps.accounts.services import account_get_or_create
from apps.core.engine import get_engine
from apps.face_engine.types import CapturePlan
from apps.sessions.models import Session, SessionAttempt
from apps.sessions.services import session_create
from apps.sessions.services.attempts import session_attempt_record
from apps.webhooks.event_types import EventType
from apps.webhooks.services import webhook_event_record
from tests.sessions.synthetic_clips import FPS, clips, frozen_still

engine = get_engine()
account = account_get_or_create(name="Demo integrator")
body = {"verifierConfigs": {"liveness": {"type": "Verification", "challengeType": "Balanced"}},
        "externalId": "console-demo", "webhookConfig": {"eventCallbackUrl": "https://hooks.example.com/liveproof"}}
session = session_create(account=account, body=body)

def run(plan, frames):
    state, log, t = engine.new_capture(plan), [], 0.0
    for jpeg in frames:
        result = engine.analyze_frame(state, jpeg, t)
        state = result.state
        log.append([round(t, 3), result.face_count, list(result.feedback), result.current_challenge])
        t += 1 / FPS
        if result.capture_complete:
            break
    return state, {"state": state.to_json(), "log": log}

Session.objects.filter(id=session.id).update(status="in_progress", attempt=1, challenges=["blink", "turn_left"])
session.refresh_from_db()
state, record = run(CapturePlan(mode="active", challenges=("blink", "turn_left")), frozen_still())
verdict = engine.decide(state)
session_attempt_record(session=session, outcome=SessionAttempt.Outcome.RETRY, reasons=list(verdict.reasons),
                       record=record, state=state, verdict=verdict)
Session.objects.filter(id=session.id).update(attempt=2)
session.refresh_from_db()
c = clips()
frames = c["hold"] + c["blink"] + c["hold"][:5] + c["turn_left"] + c["hold"]
state, record = run(CapturePlan(mode="active", challenges=("blink", "turn_left")), frames)
verdict = engine.decide(state)
session_attempt_record(session=session, outcome=SessionAttempt.Outcome(verdict.verdict), reasons=list(verdict.reasons),
                       record=record, state=state, verdict=verdict)
Session.objects.filter(id=session.id).update(
    status="completed", verdict=verdict.verdict, verification_result="Pass" if verdict.verdict == "pass" else "Fail",
    verification_failed_reasons=list(verdict.reasons), scores=dict(verdict.scores), engine=verdict.engine,
    challenge_outcomes=dict(verdict.challenge_outcomes), confidence=verdict.confidence)
session.refresh_from_db()
webhook_event_record(account=account, event_type=EventType.SESSION_COMPLETED,
                     payload={"verificationSessionId": str(session.id)}, url=body["webhookConfig"]["eventCallbackUrl"])
failed = session_create(account=account, body={**body, "externalId": "console-attack"})
Session.objects.filter(id=failed.id).update(status="completed", verdict="fail", verification_result="Fail",
                                            verification_failed_reasons=["presentationAttack"], engine="dlib")
failed.refresh_from_db()
session_attempt_record(session=failed, outcome=SessionAttempt.Outcome.FAIL, reasons=["presentationAttack"], record=None)
print(session.id, verdict.verdict)
"""


@pytest.fixture(scope="module")
def console_data(server) -> dict[str, str]:
    return {"session": server["console_session"], "verdict": server["console_verdict"]}


def _admin_login(page, server) -> None:
    page.goto(f"{server['base']}/admin/login/?next=/admin/capture/session/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", server["password"])
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/capture/session/")


def test_the_console_filters_searches_shows_each_attempt_its_timeline_and_the_dashboard(server, console_data, page):
    from playwright.sync_api import expect

    _admin_login(page, server)
    expect(page.locator("#result_list")).to_contain_text("presentationAttack")  # the reason column
    page.goto(f"{server['base']}/admin/capture/session/?reason=presentationAttack")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    _shot(page, "console-filtered-by-reason")
    page.goto(f"{server['base']}/admin/capture/session/")
    page.fill("#searchbar", "console-demo")
    page.press("#searchbar", "Enter")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    page.locator("#result_list tbody tr a", has_text=console_data["session"]).click()
    expect(page.locator(".field-summary").first).to_contain_text("#1: retry")
    expect(page.locator(".field-summary").nth(1)).to_contain_text(f"#2: {console_data['verdict']}")
    expect(page.locator("meter").first).to_be_visible()  # scores as bars
    timelines = page.locator("img.lp-timeline")
    expect(timelines).to_have_count(2)
    # Drawn on request: the first chart of a process also imports matplotlib (seconds on a loaded machine).
    expect(timelines.first).to_have_js_property("complete", True, timeout=30_000)
    chart = page.request.get(f"{server['base']}{timelines.nth(1).get_attribute('src')}")
    assert chart.ok and chart.headers["content-type"] == "image/svg+xml"
    assert b"prompt: blink" in chart.body() and b"parallax residual" in chart.body()
    expect(page.locator("figure.lp-thumb img").first).to_be_visible()
    _shot(page, "console-session-attempts")
    timelines.nth(1).click()  # the chart alone, full size, under its own CSP (matplotlib styles inline)
    expect(page.locator("svg text", has_text="prompt: blink")).to_have_count(1)
    page.go_back()
    page.locator("#webhook-deliveries").click()
    expect(page.locator("#result_list")).to_contain_text("hooks.example.com")
    _shot(page, "console-webhook-deliveries")
    page.goto(f"{server['base']}/admin/capture/session/")
    page.locator("#console-dashboard").click()
    expect(page.locator("#rates tbody tr")).to_have_count(14)
    expect(page.locator("#top-reasons")).to_contain_text("presentationAttack")
    expect(page.locator("img.lp-rates")).to_have_js_property("complete", True, timeout=30_000)
    _shot(page, "console-dashboard")
