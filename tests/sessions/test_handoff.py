"""Continue on a phone over HTTP: the short code and QR code, /go/, and the first device's status poll."""

from __future__ import annotations

import base64
import re
import secrets
from datetime import timedelta
from urllib.parse import unquote

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from apps.sessions.models import Session, SessionHandoff
from apps.sessions.services.handoff import CODE_ALPHABET
from apps.sessions.tokens import page_key_create

from .conftest import make_session

pytestmark = pytest.mark.django_db


def _ask(session: Session, client: Client | None = None, key: str | None = None):
    key = page_key_create(session_id=session.id) if key is None else key
    return (client or Client()).post(f"/s/{session.id}/handoff?k={key}")


def _address() -> str:
    """An address of its own (a /64 counts as one client): tries are counted in the shared cache across runs."""
    return f"2001:db8:{secrets.randbits(16):x}:{secrets.randbits(16):x}::1"


def _phone() -> Client:
    return Client(enforce_csrf_checks=True, HTTP_USER_AGENT="Phone", REMOTE_ADDR=_address())


def _enter(phone: Client, code: str):
    """What the person does on the phone: open /go/ (from the QR code or by hand), type the code, tap Continue."""
    form = phone.get("/go/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.content.decode()).group(1)
    return phone.post("/go/", {"code": code, "csrfmiddlewaretoken": token})


def test_the_hosted_page_offers_a_short_code_and_qr_code_that_open_the_session_on_a_phone(integrator, settings):
    session = make_session(integrator.account)
    page = Client().get(session.session_url.split("127.0.0.1:8000", 1)[-1])
    boot = page.context["boot"]
    assert boot["handoffUrl"] == f"/s/{session.id}/handoff?k={page.context['boot']['statusUrl'].split('k=')[1]}"
    assert boot["handedOff"] is False and 'data-action="handoff"' in page.content.decode()
    asked = Client().post(boot["handoffUrl"])
    assert asked.status_code == 200 and asked["Cache-Control"] == "no-store"
    body = asked.json()
    assert re.fullmatch(f"[{CODE_ALPHABET}]{{4}}-[{CODE_ALPHABET}]{{4}}", body["code"])
    assert body["entryUrl"] == f"{settings.PUBLIC_BASE_URL}/go/"
    assert body["url"] == f"{settings.PUBLIC_BASE_URL}/go/?code={body['code'].replace('-', '')}"
    assert 290 <= body["expiresInSeconds"] <= 300 and body["expiresAt"].endswith("Z")
    # The QR code is an SVG drawn on the server.
    prefix = "data:image/svg+xml"
    assert body["qrCode"].startswith(prefix)
    svg = body["qrCode"].split(",", 1)[1]
    svg = base64.b64decode(svg).decode() if ";base64" in body["qrCode"] else unquote(svg)
    assert svg.lstrip().startswith(("<?xml", "<svg")) and "<path" in svg
    stored = SessionHandoff.objects.get(session=session)
    assert body["code"].replace("-", "") not in stored.code_hash and len(stored.code_hash) == 64

    # The phone: /go/ with the code typed in lower case with a space, once.
    phone = _phone()
    opened = _enter(phone, body["code"].lower().replace("-", " "))
    assert opened.status_code == 303
    target = opened["Location"]
    assert target.startswith(f"/s/{session.id}/?k=") and target.endswith("&handoff=1")
    on_phone = phone.get(target)
    assert on_phone.status_code == 200 and on_phone.context["boot"]["handedOff"] is True
    assert 'data-action="handoff"' not in on_phone.content.decode()
    assert Session.objects.get(id=session.id).user_agent == "Phone"
    # Single use.
    again = _enter(_phone(), body["code"])
    assert again.status_code == 400 and "wrong, used or expired" in again.content.decode()


def test_the_qr_code_fills_in_the_form_and_a_get_spends_nothing(integrator):
    session = make_session(integrator.account)
    code = _ask(session).json()["code"].replace("-", "")
    form = _phone().get(f"/go/?code={code}")
    assert form.status_code == 200 and f'value="{code}"' in form.content.decode()
    assert form["Referrer-Policy"] == "no-referrer"
    assert SessionHandoff.objects.get(session=session).used_at is None
    assert _phone().get('/go/?code="><script>').content.decode().count("<script>") == 0
    # Without the form's CSRF token (a page elsewhere posting it) nothing is spent.
    forged = Client(enforce_csrf_checks=True).post("/go/", {"code": code})
    assert forged.status_code == 403 and SessionHandoff.objects.get(session=session).used_at is None


def test_a_code_expires_and_a_new_one_replaces_the_old(integrator):
    session = make_session(integrator.account)
    first = _ask(session).json()["code"]
    second = _ask(session).json()["code"]
    assert first != second
    assert _enter(_phone(), first).status_code == 400  # replaced
    with time_machine.travel(timezone.now() + timedelta(seconds=301)):
        assert _enter(_phone(), second).status_code == 400  # expired
    third = _ask(session).json()["code"]
    assert _enter(_phone(), third).status_code == 303


def test_bad_keys_finished_sessions_and_malformed_codes_get_4xx(integrator):
    session = make_session(integrator.account)
    assert _ask(session, key="").status_code == 404
    assert _ask(session, key="nope").json()["error"]["code"] == "not_found"
    other = make_session(integrator.account)
    assert _ask(session, key=page_key_create(session_id=other.id)).status_code == 404
    assert Client().get(f"/s/{session.id}/handoff?k={page_key_create(session_id=session.id)}").status_code == 405
    code = _ask(session).json()["code"]
    Session.objects.filter(id=session.id).update(status=Session.Status.COMPLETED, verification_result="Pass")
    finished = _ask(session)
    assert finished.status_code == 409 and finished.json()["error"]["code"] == "session_finished"
    assert _enter(_phone(), code).status_code == 400  # a finished session opens on no phone
    for junk in ("", "ABC", "0000-0000", "A" * 40, "ABCD-EFG!"):
        assert _enter(_phone(), junk).status_code == 400, junk
    assert Client().put("/go/").status_code == 405


def test_asking_and_trying_are_rate_limited(integrator, settings):
    settings.SESSION_HANDOFF_CODES_PER_SESSION = "2/h"
    settings.SESSION_HANDOFF_TRIES_PER_ADDRESS = "3/10m"
    session = make_session(integrator.account)
    assert _ask(session).status_code == 200 and _ask(session).status_code == 200
    limited = _ask(session)
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    code = SessionHandoff.objects.filter(session=session).count()
    assert code == 2
    phone = _phone()
    for _ in range(3):
        assert _enter(phone, "ZZZZ-ZZZZ").status_code == 400
    blocked = _enter(phone, "ZZZZ-ZZZZ")
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) > 0
    # Another address still may.
    other = Client(enforce_csrf_checks=True, REMOTE_ADDR=_address())
    assert _enter(other, "ZZZZ-ZZZZ").status_code == 400


def test_the_first_device_follows_the_session_on_its_status_poll(integrator):
    session = make_session(integrator.account)
    key = page_key_create(session_id=session.id)
    poll = Client().get(f"/s/{session.id}/status?k={key}").json()
    assert poll == {"status": "created", "result": None}
    Session.objects.filter(id=session.id).update(
        status=Session.Status.COMPLETED, verification_result="Pass", completed_at=timezone.now()
    )
    done = Client().get(f"/s/{session.id}/status?k={key}").json()
    assert done["status"] == "completed" and done["result"]["verdict"] == "pass"


def test_codes_go_with_the_sessions_personal_data(integrator, settings):
    from apps.sessions.retention import sessions_personal_data_purge

    session = make_session(integrator.account)
    _ask(session)
    kept = make_session(integrator.account)
    _ask(kept)
    Session.objects.filter(id=session.id).update(created_at=timezone.now() - timedelta(days=31))
    sessions_personal_data_purge()
    assert not SessionHandoff.objects.filter(session=session).exists()
    assert SessionHandoff.objects.filter(session=kept).count() == 1
