"""Hosted page, status poll, direct session and demo integrator over HTTP."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from apps.sessions.models import Session
from apps.sessions.tokens import page_key_create, session_token_decode

from .conftest import make_session

pytestmark = pytest.mark.django_db


def _path(session: Session) -> str:
    return session.session_url.split("127.0.0.1:8000", 1)[-1]


def test_the_hosted_page_embeds_a_fresh_single_use_token_and_only_local_assets(integrator):
    session = make_session(integrator.account)
    response = Client().get(_path(session))
    assert response.status_code == 200
    html = response.content.decode()
    boot = response.context["boot"]
    assert session_token_decode(token=boot["token"]).session_id == str(session.id)
    assert boot["wsPath"] == f"/ws/v1/sessions/{session.id}/"
    assert "/static/capture/session.js" in html and "/static/capture/session.css" in html
    assert "http://" not in html.replace("http://127.0.0.1", "") and "https://" not in html
    assert "camera=(self)" in response["Permissions-Policy"]
    assert "script-src 'self'" in response["Content-Security-Policy"]
    for screen in ("consent", "camera", "capture", "analysing", "result", "camera-denied", "camera-missing"):
        assert f'data-name="{screen}"' in html


def test_only_the_accounts_allowed_origins_may_frame_the_hosted_page(integrator):
    alone = Client().get(_path(make_session(integrator.account)))
    assert "frame-ancestors 'self'" in alone["Content-Security-Policy"].split("; ")
    assert alone["X-Frame-Options"] == "SAMEORIGIN" and alone.context["boot"]["embedOrigins"] == []
    integrator.account.allowed_redirect_origins = ["https://shop.example", "https://app.example:8443"]
    integrator.account.save()
    framed = Client().get(_path(make_session(integrator.account)))
    policy = framed["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://shop.example https://app.example:8443" in policy.split("; ")
    assert "X-Frame-Options" not in framed  # CSP names the framers; XFO cannot name another origin
    assert framed.context["boot"]["embedOrigins"] == ["https://shop.example", "https://app.example:8443"]


def test_the_consent_screen_is_shown_unless_the_config_turns_it_off(integrator):
    shown = Client().get(_path(make_session(integrator.account)))
    assert shown.context["boot"]["consent"] is True
    verifiers = {
        "liveness": {"type": "Verification", "challengeType": "Passive"},
        "commonSettings": {"showConsentScreen": False},
    }
    skipped = Client().get(_path(make_session(integrator.account, verifiers)))
    assert skipped.context["boot"]["consent"] is False


def test_a_wrong_page_key_shows_the_unknown_screen(integrator):
    session = make_session(integrator.account)
    response = Client().get(f"/s/{session.id}/?k=nope")
    assert response.status_code == 404 and b"find this verification" in response.content
    assert Client().get(f"/s/{uuid.uuid4()}/?k={page_key_create(session_id=uuid.uuid4())}").status_code == 404


def test_an_expired_session_shows_the_expired_screen(integrator, settings):
    settings.SESSION_TTL_SECONDS = 600  # the page must not promise the default's 30 minutes
    session = make_session(integrator.account)
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        response = Client().get(_path(session))
    assert response.status_code == 410 and b"has expired" in response.content
    assert b"minutes" not in response.content and b"ask for a new link" in response.content
    session.refresh_from_db()
    assert session.status == "expired"


def test_a_finished_session_shows_the_used_screen(integrator):
    session = make_session(integrator.account)
    Session.objects.filter(id=session.id).update(status="completed", verification_result="Pass")
    response = Client().get(_path(session))
    assert response.status_code == 410 and b"already finished" in response.content


def test_the_status_poll_reads_the_result_from_the_database(integrator):
    session = make_session(integrator.account)
    key = _path(session).split("k=")[1]
    assert Client().get(f"/s/{session.id}/status?k={key}").json() == {"status": "created", "result": None}
    Session.objects.filter(id=session.id).update(status="completed", verification_result="Fail",
                                                 verification_failed_reasons=["noFace"])  # fmt: skip
    body = Client().get(f"/s/{session.id}/status?k={key}").json()
    assert body["result"]["verdict"] == "fail" and body["result"]["reasons"] == ["noFace"]
    assert Client().get(f"/s/{session.id}/status?k=bad").status_code == 404


def test_direct_sessions_are_off_by_default(db):
    assert Client().get("/direct/").status_code == 404


def test_a_direct_session_needs_no_api_key_and_is_rate_limited_per_address(db, settings):
    settings.DIRECT_SESSIONS_ENABLED = True
    settings.DIRECT_SESSIONS_PER_HOUR = 2
    # Addresses unique to this run: a shared cache (Redis) keeps counters between runs. IPv6 counts by /64.
    network = f"2001:db8:{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"
    address = f"{network}::1"
    client = Client(REMOTE_ADDR=address)
    assert client.get("/direct/").status_code == 200
    first = client.post("/direct/", {"mode": "passive"})
    assert first.status_code == 302 and "/s/" in first["Location"]
    assert Session.objects.get().mode == "passive"
    assert client.post("/direct/", {"mode": "active"}).status_code == 302
    limited = client.post("/direct/", {"mode": "active"})
    assert limited.status_code == 429 and 0 < int(limited["Retry-After"]) <= 3600
    assert Client(REMOTE_ADDR=f"{network}::2").post("/direct/", {}).status_code == 429  # the same /64
    elsewhere = f"2001:db8:{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}::1"
    assert Client(REMOTE_ADDR=elsewhere).post("/direct/", {}).status_code == 302
    assert Session.objects.count() == 3


def test_the_demo_creates_a_session_for_the_demo_integrator_and_shows_the_result(db, settings):
    settings.DEMO_MODE = True
    client = Client()
    assert client.get("/demo/").status_code == 200
    response = client.post("/demo/", {"challengeType": "Balanced", "age": "1"})
    assert response.status_code == 302
    session = Session.objects.get()
    assert session.account.name == "Demo integrator" and len(session.challenges) == 2
    assert session.config["redirectConfig"]["passedUrl"].startswith(f"{settings.PUBLIC_BASE_URL}/demo/return/")
    Session.objects.filter(id=session.id).update(status="completed", verification_result="Pass")
    back = client.get("/demo/return/", {"outcome": "passed", "reVerificationSessionId": str(session.id)})
    assert back.status_code == 200 and b"&quot;verificationResult&quot;: &quot;Pass&quot;" in back.content


def test_the_demo_is_absent_outside_demo_mode(db, settings):
    settings.DEMO_MODE = False
    assert Client().get("/demo/").status_code == 404
    assert Client().get("/demo/return/").status_code == 404


def test_the_demo_return_page_shows_only_demo_sessions(integrator, settings):
    settings.DEMO_MODE = True
    session = make_session(integrator.account)
    assert Client().get("/demo/return/", {"reVerificationSessionId": str(session.id)}).status_code == 404


def test_operators_can_read_sessions_in_the_admin(integrator, admin_client):
    session = make_session(integrator.account, externalId="corr-42")
    listing = admin_client.get("/admin/capture/session/", {"q": "corr-42"})
    assert listing.status_code == 200 and str(session.id) in listing.content.decode()
    assert admin_client.get(f"/admin/capture/session/{session.id}/change/").status_code == 200
    assert admin_client.get("/admin/capture/session/add/").status_code == 403


def test_the_demo_return_page_checks_the_redirects_signature(db, settings):
    from urllib.parse import urlsplit

    from apps.sessions.result_redirect import result_redirect_url

    settings.DEMO_MODE = True
    client = Client()
    client.post("/demo/", {"challengeType": "Passive"})
    session = Session.objects.get()
    Session.objects.filter(id=session.id).update(status="completed", verification_result="Pass")
    session.refresh_from_db()
    query = urlsplit(result_redirect_url(session=session) or "").query
    valid = client.get(f"/demo/return/?{query}")
    assert valid.status_code == 200 and b'data-outcome="Valid"' in valid.content and b"signature valid" in valid.content
    tampered = client.get(f"/demo/return/?{query.replace('outcome=passed', 'outcome=failed')}")
    assert b'data-outcome="InvalidSignature"' in tampered.content and b"signature valid" not in tampered.content
    unsigned = client.get("/demo/return/", {"reVerificationSessionId": str(session.id)})
    assert b'data-outcome="Missing"' in unsigned.content
