"""/v1/user/*: create, get, list, check a document, delete; every bad input gets its documented 4xx."""

from __future__ import annotations

import uuid

import pytest

from apps.users.models import EntryUser

pytestmark = pytest.mark.django_db


def _create(client, **body):
    return client.post("/v1/user/create", {"externalId": "u-1", **body}, format="json")


def test_create_answers_the_entry_fields_and_stores_the_document_number_only_hashed(integrator):
    response = _create(integrator.client, dateOfBirth="1990-05-01", photoIdentityDocumentNumber="AB 123-456")
    assert response.status_code == 200, response.content
    user = response.json()["user"]
    assert user["isRegistrationComplete"] is False and user["deviceId"] is None
    assert user["dateOfBirth"] == "1990-05-01" and user["hasPhotoIdentityDocumentNumber"] is True
    assert "AB 123-456" not in response.content.decode()
    stored = EntryUser.objects.get(id=user["entryUserId"])
    assert len(stored.document_number_hash) == 64 and "123456" not in stored.document_number_hash
    check = integrator.client.post(
        "/v1/user/check-document",
        {"entryUserId": user["entryUserId"], "photoIdentityDocumentNumber": "ab123456"},
        format="json",
    )
    assert check.json() == {"entryUserId": user["entryUserId"], "matches": True}
    wrong = integrator.client.post(
        "/v1/user/check-document",
        {"entryUserId": user["entryUserId"], "photoIdentityDocumentNumber": "AB123457"},
        format="json",
    )
    assert wrong.json()["matches"] is False


def test_the_same_number_hashes_differently_in_two_accounts(integrator, other_integrator):
    a = _create(integrator.client, photoIdentityDocumentNumber="X1").json()["user"]["entryUserId"]
    b = _create(other_integrator.client, photoIdentityDocumentNumber="X1").json()["user"]["entryUserId"]
    assert EntryUser.objects.get(id=a).document_number_hash != EntryUser.objects.get(id=b).document_number_hash


def test_get_by_id_or_external_id_list_and_delete(integrator):
    client = integrator.client
    user = _create(client).json()["user"]
    by_id = client.get("/v1/user/get", {"entryUserId": user["entryUserId"]})
    by_external = client.get("/v1/user/get-by-external-id", {"externalId": "u-1"})
    assert by_id.json() == by_external.json() == {"user": user}
    listed = client.get("/v1/user/get-all").json()
    assert listed["totalCount"] == 1 and listed["users"] == [user]
    deleted = client.delete(f"/v1/user/delete?entryUserId={user['entryUserId']}")
    assert deleted.json() == {"entryUserId": user["entryUserId"], "deletedFaceCount": 0, "clearedSessionCount": 0}
    assert client.get("/v1/user/get", {"entryUserId": user["entryUserId"]}).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "externalId"),
        ({"externalId": 42}, "externalId"),
        ({"externalId": "   "}, "externalId"),
        ({"externalId": "x" * 201}, "externalId"),
        ({"externalId": "a", "dateOfBirth": "1990-02-30"}, "dateOfBirth"),
        ({"externalId": "a", "dateOfBirth": "01/02/1990"}, "dateOfBirth"),
        ({"externalId": "a", "dateOfBirth": "2999-01-01"}, "dateOfBirth"),
        ({"externalId": "a", "dateOfBirth": 19900101}, "dateOfBirth"),
        ({"externalId": "a", "photoIdentityDocumentNumber": "!!"}, "photoIdentityDocumentNumber"),
        ({"externalId": "a", "photoIdentityDocumentNumber": "1" * 65}, "photoIdentityDocumentNumber"),
        ({"externalId": "a", "nmae": "x"}, "nmae"),
    ],
)
def test_bad_create_bodies_answer_400_naming_the_field(integrator, body, field):
    response = integrator.client.post("/v1/user/create", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert field in response.json()["error"]["fields"]


def test_a_second_user_with_the_same_external_id_is_409(integrator):
    assert _create(integrator.client).status_code == 200
    again = _create(integrator.client)
    assert again.status_code == 409 and again.json()["error"]["fields"] == {
        "externalId": ["Already used by another user of this account."]
    }


def test_another_accounts_user_is_as_unknown_as_a_missing_one(integrator, other_integrator):
    user = _create(integrator.client).json()["user"]["entryUserId"]
    for client in (other_integrator.client,):
        assert client.get("/v1/user/get", {"entryUserId": user}).status_code == 404
        assert client.delete(f"/v1/user/delete?entryUserId={user}").status_code == 404
    assert other_integrator.client.get("/v1/user/get", {"entryUserId": str(uuid.uuid4())}).status_code == 404


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/v1/user/get", {}),
        ("/v1/user/get", {"entryUserId": "nope"}),
        ("/v1/user/get-by-external-id", {}),
        ("/v1/user/get-by-external-id", {"externalId": "x" * 201}),
    ],
)
def test_get_needs_a_well_formed_id(integrator, path, query):
    response = integrator.client.get(path, query)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"


def test_enrol_from_an_unknown_session_is_404_and_from_an_unfinished_one_409(integrator):
    client = integrator.client
    user = _create(client).json()["user"]["entryUserId"]
    unknown = client.post(
        "/v1/user/enroll", {"entryUserId": user, "verificationSessionId": str(uuid.uuid4())}, format="json"
    )
    assert unknown.status_code == 404
    body = {"verifierConfigs": {"liveness": {"type": "Verification", "challengeType": "Passive"}}}
    session = client.post("/v1/verification/create-session", body, format="json").json()["verificationSessionId"]
    unfinished = client.post("/v1/user/enroll", {"entryUserId": user, "verificationSessionId": session}, format="json")
    assert unfinished.status_code == 409 and unfinished.json()["error"]["code"] == "no_face_data"
    bad = client.post("/v1/user/enroll", {"entryUserId": user, "verificationSessionId": 7}, format="json")
    assert bad.status_code == 400 and "verificationSessionId" in bad.json()["error"]["fields"]


def test_the_users_api_needs_a_key(anonymous):
    assert anonymous.get("/v1/user/get-all").status_code == 401
    assert anonymous.post("/v1/user/create", {"externalId": "a"}, format="json").status_code == 401


def test_recovery_sessions_need_a_known_user(integrator):
    client = integrator.client
    verifiers = {"liveness": {"type": "Verification"}, "faceRecognition": {"type": "Recovery"}}
    missing = client.post("/v1/verification/create-session", {"verifierConfigs": verifiers}, format="json")
    assert missing.status_code == 400 and "entryUserId" in missing.json()["error"]["fields"]
    unknown = client.post(
        "/v1/verification/create-session",
        {"verifierConfigs": verifiers, "entryUserId": str(uuid.uuid4())},
        format="json",
    )
    assert unknown.status_code == 404


def test_the_users_collection_is_never_listed_nor_addressable(integrator):
    from apps.faces.enrolment import USERS_COLLECTION_ID
    from apps.faces.models import FaceCollection

    FaceCollection.objects.create(
        account=integrator.account, collection_id=USERS_COLLECTION_ID, engine="dlib", model_version="m", dimension=128
    )
    assert integrator.client.get("/v1/collection/get-all").json()["collections"] == []
    assert integrator.client.get("/v1/collection/get", {"collectionId": USERS_COLLECTION_ID}).status_code == 400


@pytest.mark.parametrize("query", ["page=", "pageSize=", "page=0", "page=x"])
def test_a_blank_or_bad_page_parameter_is_a_400_not_the_default(integrator, query):
    response = integrator.client.get(f"/v1/user/get-all?{query}")
    assert response.status_code == 400, response.content
    assert query.split("=")[0] in response.json()["error"]["fields"]
