"""Devices (docs/entry.md#devices): what the hosted page and the socket record, and the risk signals of a user."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async as sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from apps.sessions.models import Session
from apps.sessions.services.devices import DEVICE_COOKIE, device_hash
from apps.sessions.tokens import session_token_issue
from config.asgi import application
from tests.sessions.socket_helpers import ORIGIN

from .entry_helpers import create_session, finish

IDENTIFY = {"faceRecognition": {"type": "Identify"}}
LAPTOP = "laptop-device-id-0000000001"
PHONE = "phone-device-id-00000000002"


def _open_page(session_id: str, *, device: str | None = None, address: str = "198.51.100.7", **extra) -> Client:
    """Open the hosted page at its sessionUrl as a browser holding ``device`` in its cookie, from ``address``."""
    session = Session.objects.get(id=session_id)
    browser = Client(HTTP_USER_AGENT="Mozilla/5.0 (test)", REMOTE_ADDR=address, **extra)
    if device:
        browser.cookies[DEVICE_COOKIE] = device
    response = browser.get(session.session_url.split("127.0.0.1:8000", 1)[-1])
    assert response.status_code == 200, response.content
    return browser


@pytest.mark.django_db
def test_the_hosted_page_sets_a_long_lived_first_party_cookie_and_records_its_hash(integrator):
    session_id = create_session(integrator.client, {})
    browser = Client(HTTP_USER_AGENT="A" * 800, REMOTE_ADDR="2001:db8::5")
    response = browser.get(Session.objects.get(id=session_id).session_url.split("127.0.0.1:8000", 1)[-1])
    cookie = response.cookies[DEVICE_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and not cookie["secure"]
    assert int(cookie["max-age"]) >= 365 * 24 * 3600 and cookie["path"] == "/"
    stored = Session.objects.get(id=session_id)
    assert stored.device_id == device_hash(cookie.value) and cookie.value not in stored.device_id
    assert len(stored.device_id) == 64
    assert stored.client_address == "2001:db8::5" and stored.user_agent == "A" * 500
    # The same browser again: the cookie it holds is kept, not replaced.
    again = browser.get(Session.objects.get(id=session_id).session_url.split("127.0.0.1:8000", 1)[-1])
    assert DEVICE_COOKIE not in again.cookies
    assert Session.objects.get(id=session_id).device_id == device_hash(cookie.value)


@pytest.mark.django_db
def test_over_https_the_cookie_is_secure_and_a_malformed_cookie_is_replaced(integrator):
    session_id = create_session(integrator.client, {})
    browser = Client(HTTP_USER_AGENT="x", REMOTE_ADDR="198.51.100.7")
    browser.cookies[DEVICE_COOKIE] = "short;<script>"
    url = Session.objects.get(id=session_id).session_url.split("127.0.0.1:8000", 1)[-1]
    response = browser.get(url, secure=True)
    cookie = response.cookies[DEVICE_COOKIE]
    assert cookie["secure"] and cookie.value != "short;<script>" and len(cookie.value) >= 40
    assert Session.objects.get(id=session_id).device_id == device_hash(cookie.value)


async def _auth(session_id, *, headers, client=None, device_id=None) -> dict:
    communicator = WebsocketCommunicator(application, f"/ws/v1/sessions/{session_id}/", headers=[ORIGIN, *headers])
    if client:
        communicator.scope["client"] = client
    connected, _ = await communicator.connect()
    assert connected
    message = {"type": "auth", "token": session_token_issue(session_id=session_id)}
    if device_id is not None:
        message["deviceId"] = device_id
    await communicator.send_json_to(message)
    state = await communicator.receive_json_from(timeout=5)
    await communicator.disconnect()
    return state


@pytest.mark.django_db(transaction=True)
async def test_the_socket_records_the_sdks_device_id_else_the_pages_cookie_and_its_client(integrator):
    session_id = await sync_to_async(create_session)(integrator.client, {})
    cookie = [(b"cookie", f"other=1; {DEVICE_COOKIE}={LAPTOP}".encode()), (b"user-agent", b"Chrome/131")]
    state = await _auth(session_id, headers=cookie, client=("203.0.113.9", 50123))
    assert state["status"] == "in_progress"
    stored = await sync_to_async(Session.objects.get)(id=session_id)
    assert (stored.device_id, stored.client_address, stored.user_agent) == (
        device_hash(LAPTOP),
        "203.0.113.9",
        "Chrome/131",
    )
    # An SDK's own id goes first; a malformed one is ignored (the cookie's stays).
    await _auth(session_id, headers=cookie, device_id=PHONE)
    assert (await sync_to_async(Session.objects.get)(id=session_id)).device_id == device_hash(PHONE)
    await _auth(session_id, headers=[], device_id={"not": "an id"})
    assert (await sync_to_async(Session.objects.get)(id=session_id)).device_id == device_hash(PHONE)


def _signals(result: dict) -> list[str]:
    return [s for s in result["riskSignals"] if s in ("newDevice", "addressChange")]


@pytest.mark.django_db
@pytest.mark.slow
def test_a_sign_in_from_a_new_device_and_address_is_flagged_and_becomes_the_users_device(integrator, settings):
    settings.RISK_ADDRESS_CHANGE_MINUTES = 30
    client = integrator.client
    created = client.post("/v1/user/create", {"externalId": "alice"}, format="json").json()["user"]
    alice = created["entryUserId"]
    assert created["deviceId"] is None
    # Sign-up on the laptop, at home.
    enrolment = create_session(client, {})
    _open_page(enrolment, device=LAPTOP, address="198.51.100.7")
    assert finish(client, enrolment, "astronaut")["verificationResult"] == "Pass"
    enrolled = client.post("/v1/user/enroll", {"entryUserId": alice, "verificationSessionId": enrolment}, format="json")
    assert enrolled.status_code == 200 and enrolled.json()["user"]["deviceId"] == device_hash(LAPTOP)
    assert _signals(finish_result(client, enrolment)) == []  # a first enrolment has no earlier device

    # Sign-in by face on the same laptop at home: nothing to flag.
    same = create_session(client, IDENTIFY)
    _open_page(same, device=LAPTOP, address="198.51.100.7")
    result = finish(client, same, "astronaut", seed=1)
    assert result["user"]["entryUserId"] == alice and _signals(result) == []
    assert result["deviceId"] == device_hash(LAPTOP)

    # A phone never seen for alice, minutes later on another network.
    phone = create_session(client, IDENTIFY)
    _open_page(phone, device=PHONE, address="203.0.113.200")
    flagged = finish(client, phone, "astronaut", seed=1)
    assert flagged["verificationResult"] == "Pass" and flagged["user"]["entryUserId"] == alice
    assert _signals(flagged) == ["newDevice", "addressChange"]
    # It passed: the phone is now alice's device (and no longer new), as the users API says.
    user = client.get(f"/v1/user/get?entryUserId={alice}").json()["user"]
    assert user["deviceId"] == device_hash(PHONE)
    assert flagged["user"]["deviceId"] == device_hash(PHONE)
    again = create_session(client, IDENTIFY)
    _open_page(again, device=PHONE, address="203.0.113.200")
    assert _signals(finish(client, again, "astronaut", seed=1)) == []

    # A recovery attempt bound to alice from a stranger's device and address: flagged though it fails.
    recovery = create_session(client, {"faceRecognition": {"type": "Recovery"}}, entryUserId=alice)
    _open_page(recovery, device="attacker-device-id-000000003", address="192.0.2.66")
    impostor = finish(client, recovery, "t1_3")
    assert impostor["verificationResult"] == "Fail" and _signals(impostor) == ["newDevice", "addressChange"]
    assert client.get(f"/v1/user/get?entryUserId={alice}").json()["user"]["deviceId"] == device_hash(PHONE)


@pytest.mark.django_db
@pytest.mark.slow
def test_an_address_change_counts_only_within_the_window_and_a_re_enrolment_from_a_new_device_is_flagged(
    integrator, settings
):
    settings.RISK_ADDRESS_CHANGE_MINUTES = 30
    client = integrator.client
    alice = client.post("/v1/user/create", {"externalId": "alice"}, format="json").json()["user"]["entryUserId"]
    enrolment = create_session(client, {})
    _open_page(enrolment, device=LAPTOP, address="198.51.100.7")
    finish(client, enrolment, "astronaut")
    client.post("/v1/user/enroll", {"entryUserId": alice, "verificationSessionId": enrolment}, format="json")
    # An IPv6 subscriber's addresses within one /64 are one client; an hour later anything goes.
    Session.objects.filter(id=enrolment).update(client_address="2001:db8:1:2::1")
    near = create_session(client, IDENTIFY)
    _open_page(near, device=LAPTOP, address="2001:db8:1:2::99")
    assert _signals(finish(client, near, "astronaut", seed=1)) == []
    settings.RISK_ADDRESS_CHANGE_MINUTES = 0
    far = create_session(client, IDENTIFY)
    _open_page(far, device=LAPTOP, address="192.0.2.1")
    assert _signals(finish(client, far, "astronaut", seed=1)) == []
    # Replacing alice's face from a device she never used is flagged on that session.
    settings.RISK_ADDRESS_CHANGE_MINUTES = 30
    replacement = create_session(client, {})
    _open_page(replacement, device=PHONE, address="192.0.2.1")
    finish(client, replacement, "astronaut", seed=1)
    enrolled = client.post(
        "/v1/user/enroll", {"entryUserId": alice, "verificationSessionId": replacement}, format="json"
    )
    assert enrolled.status_code == 200
    assert _signals(finish_result(client, replacement)) == ["newDevice"]


def finish_result(client, session_id: str) -> dict:
    response = client.get("/v1/verification/get-session-result", {"verificationSessionId": session_id})
    assert response.status_code == 200
    return response.json()
