"""Face recognition through real sessions: create-session, the verdict, get-session-result's faceId.

Continuous verification (000) compares the faceId of each cycle with the first one; this is that loop.
Each verdict comes from a real capture: a synthetic passive clip of that person (``seed`` makes another,
different capture of the same person) run through the process's engine, as the session worker does.
"""

from __future__ import annotations

import base64

import pytest

from apps.sessions.models import Session
from apps.sessions.services import session_verdict_record
from tests.sessions.real_captures import live_passive_verdict

pytestmark = pytest.mark.django_db


def _session(client, mode: str, external_id: str | None = None) -> str:
    body = {
        "verifierConfigs": {
            "liveness": {"type": "Verification", "challengeType": "Passive"},
            "faceRecognition": {"type": mode, "collectionId": "cycle"},
        }
    }
    if external_id:
        body["externalId"] = external_id
    response = client.post("/v1/verification/create-session", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()["verificationSessionId"]


def _finish(client, session_id: str, face: str, seed: int = 0) -> dict:
    verdict = live_passive_verdict(face, seed)
    assert verdict.verdict == "pass", verdict  # a live capture: only recognition decides below
    Session.objects.filter(id=session_id).update(status="analysing", attempt=1)
    session_verdict_record(session=Session.objects.get(id=session_id), verdict=verdict)
    response = client.get("/v1/verification/get-session-result", {"verificationSessionId": session_id})
    assert response.status_code == 200
    return response.json()


@pytest.mark.slow
def test_each_cycle_of_one_person_returns_the_enrolled_face_id_and_someone_else_does_not(integrator):
    client = integrator.client
    first = _finish(client, _session(client, "CalculationOnly"), "astronaut")
    again = _finish(client, _session(client, "CalculationOnly"), "astronaut", seed=1)
    other = _finish(client, _session(client, "CalculationOnly"), "t1_3")
    assert first["faceRecognitionResult"] == again["faceRecognitionResult"] == "Pass"
    assert len(first["faceId"]) == 32
    assert again["faceId"] == first["faceId"]  # verified: same person
    assert other["faceId"] != first["faceId"]  # different: someone else


@pytest.mark.slow
def test_a_duplicate_account_fails_the_session_with_the_reason(integrator):
    client = integrator.client
    enrolled = _finish(client, _session(client, "DuplicateVerification"), "t1_0")
    duplicate = _finish(client, _session(client, "DuplicateVerification"), "t1_0", seed=1)
    assert enrolled["verificationResult"] == "Pass"
    assert duplicate["verificationResult"] == "Fail"
    assert duplicate["faceRecognitionResult"] == "Fail"
    assert "duplicateFace" in duplicate["verificationFailedReasons"]


def test_match_verification_recognises_the_user_by_the_sessions_external_id(integrator):
    client = integrator.client
    enrol = _finish(client, _session(client, "UniqueMatchVerification", "user-42"), "astronaut")
    login = _finish(client, _session(client, "MatchVerification", "user-42"), "astronaut", seed=1)
    impostor = _finish(client, _session(client, "MatchVerification", "user-42"), "t1_2")
    assert enrol["faceRecognitionResult"] == login["faceRecognitionResult"] == "Pass"
    assert login["faceId"] == enrol["faceId"]
    assert impostor["verificationResult"] == "Fail" and "faceMismatch" in impostor["verificationFailedReasons"]


def _recognition_config(collection_id: str) -> dict:
    return {
        "verifierConfigs": {
            "liveness": {"type": "Verification", "challengeType": "Passive"},
            "faceRecognition": {"type": "CalculationOnly", "collectionId": collection_id},
        }
    }


def _stored_session(client, verification_id: str) -> str:
    response = client.post("/v1/verification/create-session", {"verificationId": verification_id}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["verificationSessionId"]


def test_moving_a_stored_verification_to_another_collection_enrols_there_and_keeps_the_old_one(integrator, faces):
    client = integrator.client
    created = client.post(
        "/v1/verification/create", {"name": "kyc", "verificationConfig": _recognition_config("A")}, format="json"
    )
    assert created.status_code == 200, created.content
    verification_id = created.json()["verificationId"]
    first_session = _stored_session(client, verification_id)
    first = _finish(client, first_session, "astronaut")
    assert first["faceRecognitionResult"] == "Pass"

    updated = client.put(
        "/v1/verification/update",
        {"verificationId": verification_id, "name": "kyc", "verificationConfig": _recognition_config("B")},
        format="json",
    )
    assert updated.status_code == 200, updated.content
    stored = client.get("/v1/verification/get", {"verificationId": verification_id}).json()
    assert stored["verification"]["verificationConfig"]["verifierConfigs"]["faceRecognition"]["collectionId"] == "B"

    second_session = _stored_session(client, verification_id)
    assert Session.objects.get(id=second_session).config["verifierConfigs"]["faceRecognition"]["collectionId"] == "B"
    second = _finish(client, second_session, "astronaut", seed=1)
    assert second["faceRecognitionResult"] == "Pass"
    assert len(second["faceId"]) == 32
    assert second["faceId"] != first["faceId"]  # a new face in B, not the one stored in A

    in_b = client.get("/v1/face/get", {"faceId": second["faceId"]}).json()["face"]
    assert (in_b["collectionId"], in_b["sessionIds"]) == ("B", [second_session])
    # A is detached, not deleted: its face is still there, untouched by the second session, and still found.
    in_a = client.get("/v1/face/get", {"faceId": first["faceId"]})
    assert in_a.status_code == 200, in_a.content
    assert (in_a.json()["face"]["collectionId"], in_a.json()["face"]["sessionIds"]) == ("A", [first_session])
    counts = {c["collectionId"]: c["faceCount"] for c in client.get("/v1/collection/get-all").json()["collections"]}
    assert counts == {"A": 1, "B": 1}
    identify = {"collectionId": "A", "image": base64.b64encode(faces.astronaut).decode()}
    found = client.post("/v1/face/identify", identify, format="json")
    assert found.status_code == 200, found.content
    assert found.json()["match"]["faceId"] == first["faceId"]


def test_compare_with_a_session_that_has_not_passed_is_a_conflict_and_another_accounts_is_unknown(
    integrator, other_integrator, faces
):
    session_id = _session(integrator.client, "CalculationOnly")
    compare = {"image": base64.b64encode(faces.astronaut).decode(), "verificationSessionId": session_id}
    own = integrator.client.post("/v1/face/compare", compare, format="json")
    assert own.status_code == 409 and own.json()["error"]["code"] == "no_face_data"
    foreign = other_integrator.client.post("/v1/face/compare", compare, format="json")
    assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("mode", ["MatchVerification", "UniqueMatchVerification"])
def test_a_live_session_that_failed_for_want_of_an_external_id_can_still_be_compared_against(integrator, faces, mode):
    client = integrator.client
    session_id = _session(client, mode)
    result = _finish(client, session_id, "astronaut")
    assert result["verificationFailedReasons"] == ["externalIdRequired"]
    compare = {"image": base64.b64encode(faces.astronaut).decode(), "verificationSessionId": session_id}
    answer = client.post("/v1/face/compare", compare, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["isIdentical"] is True


def test_compare_with_a_session_past_the_result_retention_is_unknown_before_the_purge_runs(integrator, faces):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    client = integrator.client
    session_id = _session(client, "CalculationOnly")
    _finish(client, session_id, "astronaut")
    compare = {"image": base64.b64encode(faces.astronaut).decode(), "verificationSessionId": session_id}
    assert client.post("/v1/face/compare", compare, format="json").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=5)):
        result = client.get("/v1/verification/get-session-result", {"verificationSessionId": session_id})
        assert result.status_code == 404
        answer = client.post("/v1/face/compare", compare, format="json")
        assert answer.status_code == 404, answer.content
        assert answer.json()["error"]["code"] == "not_found"


# --- 000 as written: no faceRecognition block, yet a faceId each cycle and compare against the session ------

WEB_SDK_BODY = {  # the 000 document's create-session body, verbatim
    "verifierConfigs": {
        "liveness": {"type": "Verification", "challengeType": "Balanced"},
        "age": {"type": "CalculationOnly"},
        "gender": {"type": "CalculationOnly"},
    }
}


def _web_sdk_session(client) -> str:
    response = client.post("/v1/verification/create-session", WEB_SDK_BODY, format="json")
    assert response.status_code == 200, response.content
    return response.json()["verificationSessionId"]


def test_every_attempt_computes_the_face_descriptor_even_without_face_recognition(integrator):
    from apps.sessions.services.create import capture_attempt_reset

    session = Session.objects.get(id=_web_sdk_session(integrator.client))
    assert capture_attempt_reset(session=session)["plan"]["want_embedding"] is True


@pytest.mark.slow
def test_the_web_sdk_body_returns_one_face_id_per_person_and_compare_works_against_it(integrator, faces):
    client = integrator.client
    first_id = _web_sdk_session(client)
    first = _finish(client, first_id, "astronaut")
    again = _finish(client, _web_sdk_session(client), "astronaut", seed=1)
    other = _finish(client, _web_sdk_session(client), "t1_3")
    assert first["verificationResult"] == again["verificationResult"] == "Pass"
    assert first["faceRecognitionResult"] == "NotExecuted"  # no recognition configured: nothing can fail on it
    assert len(first["faceId"]) == 32
    assert again["faceId"] == first["faceId"]  # verified: same person
    assert other["faceId"] not in (None, first["faceId"])  # different: someone else

    compare = {"image": base64.b64encode(faces.astronaut).decode(), "verificationSessionId": first_id}
    answer = client.post("/v1/face/compare", compare, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["isIdentical"] is True


def test_faces_of_the_session_collection_go_once_not_seen_for_the_result_retention(integrator, settings):
    from datetime import timedelta

    from django.utils import timezone

    from apps.faces.models import Face, FaceCollection
    from apps.faces.session_faces import SESSIONS_COLLECTION_ID, session_collection_faces_purge

    account = integrator.account
    sessions = FaceCollection.objects.create(
        account=account, collection_id=SESSIONS_COLLECTION_ID, engine="dlib", model_version="v", dimension=2
    )
    kept = FaceCollection.objects.create(
        account=account, collection_id="mine", engine="dlib", model_version="v", dimension=2
    )
    stale = Face.objects.create(collection=sessions, embedding=b"\x00" * 8)
    fresh = Face.objects.create(collection=sessions, embedding=b"\x00" * 8)
    enrolled = Face.objects.create(collection=kept, embedding=b"\x00" * 8)
    old = timezone.now() - timedelta(days=settings.SESSION_RESULT_RETENTION_DAYS, hours=1)
    Face.objects.filter(pk__in=[stale.pk, enrolled.pk]).update(last_seen_at=old)
    assert session_collection_faces_purge() == 1
    assert set(Face.objects.values_list("pk", flat=True)) == {fresh.pk, enrolled.pk}


def _thresholded(client, mode: str, threshold: float | None, collection: str, external_id: str | None = None) -> str:
    recognition: dict = {"type": mode, "collectionId": collection}
    if threshold is not None:
        recognition["similarityThreshold"] = threshold
    body: dict = {"verifierConfigs": {"liveness": {"type": "Verification", "challengeType": "Passive"},
                                      "faceRecognition": recognition}}  # fmt: skip
    if external_id:
        body["externalId"] = external_id
    response = client.post("/v1/verification/create-session", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()["verificationSessionId"]


@pytest.mark.slow
def test_a_configs_similarity_threshold_decides_the_collection_modes_and_is_returned(integrator):
    # Real captures: the astronaut and t1_3 are 0.34 similar (dlib), two people to the engine (0.5).
    client = integrator.client
    _finish(client, _thresholded(client, "DuplicateVerification", None, "engine"), "astronaut")
    other = _finish(client, _thresholded(client, "DuplicateVerification", None, "engine"), "t1_3")
    assert other["verificationResult"] == "Pass" and other["thresholds"]["faceSimilarity"] is None
    _finish(client, _thresholded(client, "DuplicateVerification", 0.3, "lax"), "astronaut")
    lax = _finish(client, _thresholded(client, "DuplicateVerification", 0.3, "lax"), "t1_3")
    assert lax["verificationResult"] == "Fail" and "duplicateFace" in lax["verificationFailedReasons"]
    assert lax["thresholds"]["faceSimilarity"] == 0.3
    # A stored verification carries its threshold into each session.
    config = {"verifierConfigs": {"liveness": {"type": "Verification", "challengeType": "Passive"},
                                  "faceRecognition": {"type": "MatchVerification", "collectionId": "lax",
                                                      "similarityThreshold": 0.95}}}  # fmt: skip
    created = client.post("/v1/verification/create", {"name": "strict", "verificationConfig": config}, format="json")
    assert created.status_code == 200, created.content
    session_id = _stored_session(client, created.json()["verificationId"])
    assert Session.objects.get(id=session_id).typed_config.verifiers.face_recognition.similarity_threshold == 0.95


@pytest.mark.parametrize("bad", [0.29, 0.951, 1, -0.5, "0.6", True, None, "NaN"])
def test_a_similarity_threshold_out_of_bounds_or_not_a_number_is_a_400(integrator, bad):
    body = {"verifierConfigs": {"liveness": {"type": "Verification"},
                                "faceRecognition": {"type": "CalculationOnly", "collectionId": "c",
                                                    "similarityThreshold": bad}}}  # fmt: skip
    response = integrator.client.post("/v1/verification/create-session", body, format="json")
    assert response.status_code == 400, (bad, response.content)
    fields = response.json()["error"]["fields"]
    assert any("similarityThreshold" in key for key in fields), fields
