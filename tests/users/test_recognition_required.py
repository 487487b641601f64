"""A recognition mode that must match never passes without comparing faces (docs/entry.md, docs/faces.md).

Identify, Recovery, MatchVerification, UniqueMatchVerification and DuplicateVerification
decide on a face comparison; when none ran (a minor's session keeps no face data, a
face that was not live with liveness disabled) the session fails with
``faceRecognitionNotExecuted``. Real frames, the real engine.
"""

from __future__ import annotations

from datetime import date

import pytest

from apps.faces.models import SessionFace
from apps.sessions.models import Session
from apps.sessions.result_redirect import result_redirect_url
from apps.sessions.services import session_verdict_record
from apps.sessions.verdict_rules import FACE_RECOGNITION_NOT_EXECUTED
from tests.sessions.real_captures import print_attack_verdict

from .entry_helpers import create_session, finish, sign_up

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

RECOVERY = {"faceRecognition": {"type": "Recovery"}}
REDIRECT = {
    "redirectConfig": {"passedUrl": "https://rp.example/ok", "failedUrl": "https://rp.example/no"},
    "resultParameterConfig": {"includeVerificationResult": True},
}


def _ten_years_ago() -> str:
    today = date.today()
    return today.replace(year=today.year - 10, day=1).isoformat()


def _finish_with_a_print_attack(client, session_id: str) -> dict:
    verdict = print_attack_verdict()
    assert verdict.verdict == "fail" and "presentationAttack" in verdict.reasons, verdict
    Session.objects.filter(id=session_id).update(status="analysing", attempt=1)
    session_verdict_record(session=Session.objects.get(id=session_id), verdict=verdict)
    response = client.get("/v1/verification/get-session-result", {"verificationSessionId": session_id})
    assert response.status_code == 200, response.content
    return response.json()


def _refused_without_comparing(result: dict) -> None:
    assert result["verificationResult"] == "Fail", result
    assert result["faceRecognitionResult"] == "NotExecuted"
    assert FACE_RECOGNITION_NOT_EXECUTED in result["verificationFailedReasons"]


def test_a_stranger_cannot_recover_a_childs_account(integrator):
    client = integrator.client
    kid = sign_up(client, "kid", "astronaut", dateOfBirth=_ten_years_ago())["entryUserId"]
    created = client.post("/v1/user/create", {"externalId": "kid2", "dateOfBirth": _ten_years_ago()}, format="json")
    for user in (kid, created.json()["user"]["entryUserId"]):
        config = {**RECOVERY, "age": {"type": "CalculationOnly"}}
        result = finish(client, create_session(client, config, entryUserId=user), "t1_3")
        _refused_without_comparing(result)
        assert result["minor"] is True


def test_a_childs_recovery_without_an_age_block_is_a_minors_session_and_keeps_no_face_data(integrator):
    client = integrator.client
    kid = sign_up(client, "kid", "astronaut", dateOfBirth=_ten_years_ago())["entryUserId"]
    session_id = create_session(client, RECOVERY, entryUserId=kid)
    result = finish(client, session_id, "astronaut", seed=1)
    _refused_without_comparing(result)
    assert result["minor"] is True and result["faceId"] is None
    assert not SessionFace.objects.filter(session_id=session_id).exists()
    assert Session.objects.get(id=session_id).icao_jpeg is None


def test_identify_and_recovery_refuse_a_config_without_liveness(integrator):
    for face_recognition in ({"type": "Identify"}, {"type": "Recovery"}):
        for liveness in ({}, {"liveness": {"type": "Disabled"}}):
            response = integrator.client.post(
                "/v1/verification/create-session",
                {"verifierConfigs": {**liveness, "faceRecognition": face_recognition}},
                format="json",
            )
            assert response.status_code == 400, response.content
            assert list(response.json()["error"]["fields"]) == ["verifierConfigs.liveness.type"]


@pytest.mark.parametrize("mode", ["Identify", "Recovery"])
def test_a_print_attack_on_a_stored_config_without_liveness_never_signs_anyone_in(integrator, mode):
    integrator.account.allowed_redirect_origins = ["https://rp.example"]
    integrator.account.save()
    client = integrator.client
    alice = sign_up(client, "alice", "astronaut")["entryUserId"]
    bound = {"entryUserId": alice} if mode == "Recovery" else {}
    session_id = create_session(client, {"faceRecognition": {"type": mode}}, **bound, **REDIRECT)
    # A config stored before such configs were refused.
    session = Session.objects.get(id=session_id)
    session.config["verifierConfigs"]["liveness"] = {"type": "Disabled", "challengeType": "Balanced"}
    Session.objects.filter(id=session_id).update(config=session.config)
    result = _finish_with_a_print_attack(client, session_id)
    _refused_without_comparing(result)
    assert "presentationAttack" in result["verificationFailedReasons"]
    redirect = result_redirect_url(session=Session.objects.get(id=session_id))
    assert redirect.startswith("https://rp.example/no") and "reEntryUserId=" + alice not in redirect


@pytest.mark.parametrize("mode", ["MatchVerification", "UniqueMatchVerification", "DuplicateVerification"])
def test_a_collection_mode_that_must_match_fails_a_print_attack_when_liveness_is_disabled(integrator, mode):
    client = integrator.client
    response = client.post(
        "/v1/verification/create-session",
        {
            "verifierConfigs": {"faceRecognition": {"type": mode, "collectionId": "members"}},
            "externalId": "customer-1",
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    result = _finish_with_a_print_attack(client, response.json()["verificationSessionId"])
    _refused_without_comparing(result)
    assert result["livenessVerificationResult"] == "NotExecuted"


def test_calculation_only_still_never_fails_on_recognition(integrator):
    client = integrator.client
    response = client.post(
        "/v1/verification/create-session",
        {"verifierConfigs": {"faceRecognition": {"type": "CalculationOnly", "collectionId": "members"}}},
        format="json",
    )
    result = _finish_with_a_print_attack(client, response.json()["verificationSessionId"])
    assert result["verificationResult"] == "Pass" and result["faceRecognitionResult"] == "NotExecuted"
