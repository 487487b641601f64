"""Driving Entry flows through the API with real verdicts (synthetic clips of real faces, the real engine)."""

from __future__ import annotations

from apps.sessions.models import Session
from apps.sessions.services import session_verdict_record
from tests.sessions.real_captures import live_passive_verdict

PASSIVE = {"type": "Verification", "challengeType": "Passive"}


def create_session(client, verifiers: dict, **extra) -> str:
    body = {"verifierConfigs": {"liveness": PASSIVE, **verifiers}, **extra}
    response = client.post("/v1/verification/create-session", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()["verificationSessionId"]


def finish(client, session_id: str, face: str, seed: int = 0) -> dict:
    """Run the session's verdict on a real capture of ``face`` (``seed``: another capture of the same person)."""
    verdict = live_passive_verdict(face, seed)
    assert verdict.verdict == "pass", verdict
    Session.objects.filter(id=session_id).update(status="analysing", attempt=1)
    session_verdict_record(session=Session.objects.get(id=session_id), verdict=verdict)
    response = client.get("/v1/verification/get-session-result", {"verificationSessionId": session_id})
    assert response.status_code == 200, response.content
    return response.json()


def sign_up(client, external_id: str, face: str, seed: int = 0, **profile) -> dict:
    """Create a user and enrol their face from a passed liveness session."""
    created = client.post("/v1/user/create", {"externalId": external_id, **profile}, format="json")
    assert created.status_code == 200, created.content
    user = created.json()["user"]
    assert user["isRegistrationComplete"] is False
    session_id = create_session(client, {})
    assert finish(client, session_id, face, seed)["verificationResult"] == "Pass"
    enrolled = client.post(
        "/v1/user/enroll", {"entryUserId": user["entryUserId"], "verificationSessionId": session_id}, format="json"
    )
    assert enrolled.status_code == 200, enrolled.content
    return enrolled.json()["user"]
