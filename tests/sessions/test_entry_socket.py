"""Entry end to end over the real capture socket (docs/entry.md): sign-up on one device, sign-in by face on a
second device, recovery, deletion. Every verdict comes from frames streamed through the socket to the real
engine; the API calls are the integrator's."""

from __future__ import annotations

import functools
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from channels.db import database_sync_to_async as sync_to_async  # closes its DB connection after use

from apps.sessions.models import Session
from apps.sessions.services.devices import device_hash
from tests.face_engine import synthetic

from .socket_helpers import authed_socket, stream_until
from .synthetic_clips import FPS, ScriptedUser

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("real_engine"), pytest.mark.slow]

PASSIVE = {"type": "Verification", "challengeType": "Passive"}
LAPTOP = "laptop-0000000000000000001"
PHONE = "phone-00000000000000000002"


@functools.cache
def capture(face: str, seed: int) -> list[bytes]:
    """Another camera, another moment: a passive clip of ``face`` (a natural blink, a little sway)."""
    frames = synthetic.passive_sequence(face, 4.0, fps=FPS, seed=seed, blink_at_s=1.3)
    return [synthetic.encode_jpeg(frame, 88) for frame in frames]


def _create(client, verifiers: dict[str, Any], **body: Any) -> dict[str, Any]:
    response = client.post(
        "/v1/verification/create-session",
        {"verifierConfigs": {"liveness": PASSIVE, **verifiers}, **body},
        format="json",
    )
    assert response.status_code == 200, response.content
    return response.json()


async def _run(created: dict[str, Any], frames: Any, device: str) -> dict[str, Any]:
    """Open the session's socket as ``device`` (the SDK's deviceId), stream until the result, return it."""
    socket, state = await authed_socket(created["verificationSessionId"], created["sessionToken"], device_id=device)
    assert state["type"] == "state" and state["status"] == "in_progress", state
    on_message = frames.on_message if isinstance(frames, ScriptedUser) else None
    messages = await stream_until(socket, frames, gap=0.105, timeout=40, on_message=on_message)
    await socket.disconnect()
    return messages[-1]


async def _result(client, session_id: str) -> dict[str, Any]:
    response = await sync_to_async(client.get)(
        "/v1/verification/get-session-result", {"verificationSessionId": session_id}
    )
    assert response.status_code == 200
    return response.json()


async def test_sign_up_then_sign_in_by_face_on_a_second_device_then_recovery_then_deletion(integrator):
    integrator.account.allowed_redirect_origins = ["https://rp.example"]
    await sync_to_async(integrator.account.save)()
    client = integrator.client
    post = sync_to_async(client.post)

    # Sign-up: the integrator creates alice; she passes a liveness session on her laptop; her face is enrolled.
    # 32.5 years old, within the 5-year margin of what both offline engines estimate for the recovery capture
    # below (astronaut, seed 23: dlib 31.4, MediaPipe 28.2; across seeds 20-25 dlib says 29-38, MediaPipe 28-38).
    born = (date.today() - timedelta(days=round(32.5 * 365.25))).isoformat()
    created = await post("/v1/user/create", {"externalId": "alice", "dateOfBirth": born}, format="json")
    alice = created.json()["user"]["entryUserId"]
    enrolment = await sync_to_async(_create)(client, {})
    message = await _run(enrolment, ScriptedUser(passive_blink=True), LAPTOP)
    assert message["verdict"] == "pass", message
    enrolled = await post(
        "/v1/user/enroll",
        {"entryUserId": alice, "verificationSessionId": enrolment["verificationSessionId"]},
        format="json",
    )
    assert enrolled.status_code == 200, enrolled.content
    assert enrolled.json()["user"]["isRegistrationComplete"] is True
    assert enrolled.json()["user"]["deviceId"] == device_hash(LAPTOP)

    # Sign-in by face alone on her phone: another camera, another capture, no externalId given.
    sign_in = await sync_to_async(_create)(
        client,
        {"faceRecognition": {"type": "Identify"}},
        redirectConfig={"passedUrl": "https://rp.example/ok", "failedUrl": "https://rp.example/no"},
        resultParameterConfig={"includeSignature": True, "includeVerificationResult": True},
    )
    message = await _run(sign_in, capture("astronaut", 21), PHONE)
    assert message["verdict"] == "pass", message
    query = parse_qs(urlsplit(message["redirectUrl"]).query)
    assert query["reEntryUserId"] == [alice] and "reSignature" in query
    result = await _result(client, sign_in["verificationSessionId"])
    assert result["faceRecognitionResult"] == "Pass" and result["user"]["entryUserId"] == alice
    assert 0.5 <= result["user"]["similarity"] <= 1.0
    assert result["deviceId"] == device_hash(PHONE) and "newDevice" in result["riskSignals"]
    redirect_query = urlsplit(message["redirectUrl"]).query
    checked = await post("/v1/signature/validate", {"queryString": redirect_query}, format="json")
    assert checked.status_code == 200 and checked.json()["result"] == "Valid"

    # Someone else on the same phone is nobody.
    stranger = await sync_to_async(_create)(client, {"faceRecognition": {"type": "Identify"}})
    # Seed 21: MediaPipe misses t1_3's one blink at 10 fps in 5 of 10 seeds (22 among them; dlib in none), a
    # liveness refusal issue 11 tracks (docs/engine.md); this test is about identification.
    message = await _run(stranger, capture("t1_3", 21), PHONE)
    assert message["verdict"] == "fail" and "userNotFound" in message["reasons"], message
    assert (await _result(client, stranger["verificationSessionId"]))["user"] is None

    # Recovery bound to alice, from the phone she now signed in on: her face and her age agree.
    recovery_config = {"faceRecognition": {"type": "Recovery"}, "age": {"type": "CalculationOnly"}}
    recovery = await sync_to_async(_create)(client, recovery_config, entryUserId=alice)
    message = await _run(recovery, capture("astronaut", 23), PHONE)
    assert message["verdict"] == "pass", message
    recovered = await _result(client, recovery["verificationSessionId"])
    assert recovered["user"]["entryUserId"] == alice and "newDevice" not in recovered["riskSignals"]

    # Deletion: the user, her face, and the personal fields of each session that named her.
    deleted = await sync_to_async(client.delete)(f"/v1/user/delete?entryUserId={alice}")
    assert deleted.status_code == 200, deleted.content
    assert deleted.json()["deletedFaceCount"] == 1 and deleted.json()["clearedSessionCount"] >= 3
    cleared = await sync_to_async(Session.objects.get)(id=sign_in["verificationSessionId"])
    assert cleared.personal_data_purged_at is not None and cleared.device_id == "" and cleared.entry_user_id is None
    # The same face signs in as nobody now.
    after = await sync_to_async(_create)(client, {"faceRecognition": {"type": "Identify"}})
    message = await _run(after, capture("astronaut", 21), PHONE)
    assert message["verdict"] == "fail" and "userNotFound" in message["reasons"], message
