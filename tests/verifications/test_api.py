from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from apps.verifications.models import VerificationConfig

from .conftest import create, seed_body

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def get(client, verification_id):
    return client.get(f"/v1/verification/get?verificationId={verification_id}")


# --- The seed's own examples, verbatim --------------------------------------------------------------------


def test_the_seed_get_example_is_answered_exactly_for_the_seed_create_example(integrator):
    with time_machine.travel(dt.datetime(2025, 11, 7, tzinfo=UTC), tick=False):
        verification_id = create(integrator.client, seed_body("create_request"))

    response = get(integrator.client, verification_id)

    expected = seed_body("get_response")
    expected["verification"]["verificationId"] = verification_id
    assert response.status_code == 200
    assert response.json() == expected


def test_the_seed_get_all_example_is_answered_exactly(integrator):
    with time_machine.travel(dt.datetime(2026, 2, 1, tzinfo=UTC), tick=False):
        verification_id = create(integrator.client, seed_body("create_request"))

    response = integrator.client.get("/v1/verification/get-all")

    expected = seed_body("get_all_response")
    expected["verifications"][0]["verificationId"] = verification_id
    assert response.status_code == 200
    assert response.json() == expected


@pytest.mark.parametrize(
    ("create_fixture", "endpoint", "update_fixture"),
    [
        ("create_request", "create", "update_request"),
        ("create_curl_request", "create", "update_curl_request"),
        ("create_or_update_request", "create-or-update", "update_request"),
        ("create_or_update_curl_request", "create-or-update", "update_curl_request"),
    ],
)
def test_every_seed_example_body_passes_create_get_update_delete_and_comes_back_equal(
    integrator, create_fixture, endpoint, update_fixture
):
    body = seed_body(create_fixture)
    created = integrator.client.post(f"/v1/verification/{endpoint}", body, format="json")
    assert created.status_code == 200, created.json()
    verification_id = created.json()["verificationId"]

    fetched = get(integrator.client, verification_id).json()["verification"]
    assert fetched["name"] == body["name"]
    assert fetched["verificationConfig"] == body["verificationConfig"]

    update = seed_body(update_fixture)
    update["verificationId"] = verification_id
    updated = integrator.client.put("/v1/verification/update", update, format="json")
    assert updated.status_code == 200, updated.json()
    assert updated.json() == {"verificationId": verification_id}
    fetched = get(integrator.client, verification_id).json()["verification"]
    assert fetched["verificationConfig"] == update["verificationConfig"]
    assert fetched["verificationConfig"]["verifierConfigs"]["faceRecognition"] == {"type": "Disabled"}

    deleted = integrator.client.delete(f"/v1/verification/delete?verificationId={verification_id}")
    assert deleted.status_code == 200
    assert get(integrator.client, verification_id).status_code == 404


def test_common_settings_round_trip_with_their_non_default_values(integrator):
    common = {"failOnMultipleFacesDetected": True, "showConsentScreen": False, "maxAttempts": 3}
    body = seed_body("create_curl_request")
    body["verificationConfig"]["verifierConfigs"]["commonSettings"] = common
    verification_id = create(integrator.client, body)
    answered = get(integrator.client, verification_id).json()["verification"]["verificationConfig"]
    assert answered["verifierConfigs"]["commonSettings"] == common


def test_the_stored_config_is_normalised_with_every_default_filled_in(integrator):
    body = seed_body("create_curl_request")  # no webhookConfig, no commonSettings
    verification_id = create(integrator.client, body)

    config = VerificationConfig.objects.get(id=verification_id).config

    assert config["webhookConfig"] == {"eventCallbackUrl": None}
    assert config["verifierConfigs"]["commonSettings"] == {
        "failOnMultipleFacesDetected": False,
        "showConsentScreen": True,
        "maxAttempts": None,
    }
    assert config["verifierConfigs"]["age"] == {"type": "CalculationOnly", "threshold": None, "direction": "Above"}
    assert config["resultParameterConfig"]["includeGenderVerificationResult"] is False
    assert len(config["resultParameterConfig"]) == 14


def test_a_minimal_config_gets_documented_defaults(integrator):
    verification_id = create(integrator.client, {"name": "minimal", "verificationConfig": {"verifierConfigs": {}}})

    config = VerificationConfig.objects.get(id=verification_id).config
    assert config["verifierConfigs"]["liveness"] == {"type": "Disabled", "challengeType": "Balanced"}
    assert config["verifierConfigs"]["faceRecognition"] == {"type": "Disabled", "collectionId": None}
    assert config["redirectConfig"] == {"passedUrl": None, "failedUrl": None}
    assert set(config["resultParameterConfig"].values()) == {False}
    assert config["securityConfig"] == {"forceSignedInput": False}
    assert set(config["sessionOverrideConfig"].values()) == {False}
    # What the integrator sent is what they get back.
    body = get(integrator.client, verification_id).json()["verification"]
    assert body["verificationConfig"] == {"verifierConfigs": {}}


# --- create / create-or-update / update semantics ---------------------------------------------------------------


def test_creating_the_same_name_twice_in_one_account_is_409(integrator, create_body):
    create(integrator.client, create_body)

    response = integrator.client.post("/v1/verification/create", create_body, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert response.json()["error"]["fields"] == {
        "name": ["A verification configuration with the same name already exists."]
    }
    assert VerificationConfig.objects.filter(account=integrator.account).count() == 1


def test_two_accounts_may_use_the_same_name(integrator, other_integrator, create_body):
    first = create(integrator.client, create_body)
    second = create(other_integrator.client, create_body)
    assert first != second


def test_create_or_update_creates_then_updates_the_config_with_the_same_name(integrator, create_body):
    first = integrator.client.post("/v1/verification/create-or-update", create_body, format="json").json()
    assert first["wasCreated"] is True

    create_body["verificationConfig"]["verifierConfigs"]["liveness"]["challengeType"] = "Advanced"
    second = integrator.client.post("/v1/verification/create-or-update", create_body, format="json").json()

    assert second == {"verificationId": first["verificationId"], "wasCreated": False}
    stored = get(integrator.client, first["verificationId"]).json()["verification"]
    assert stored["verificationConfig"]["verifierConfigs"]["liveness"]["challengeType"] == "Advanced"
    assert VerificationConfig.objects.filter(account=integrator.account).count() == 1


def test_create_or_update_never_touches_another_accounts_config(integrator, other_integrator, create_body):
    theirs = create(other_integrator.client, create_body)

    mine = integrator.client.post("/v1/verification/create-or-update", create_body, format="json").json()

    assert mine["wasCreated"] is True
    assert mine["verificationId"] != theirs


def test_update_stores_a_new_collection_id_and_moves_last_modified(integrator, create_body):
    with time_machine.travel(dt.datetime(2026, 1, 1, 12, 0, tzinfo=UTC), tick=False):
        verification_id = create(integrator.client, create_body)
    update = {**create_body, "verificationId": verification_id}
    update["verificationConfig"]["verifierConfigs"]["faceRecognition"]["collectionId"] = "new-collection"

    with time_machine.travel(dt.datetime(2026, 1, 2, 8, 30, 15, tzinfo=UTC), tick=False):
        response = integrator.client.put("/v1/verification/update", update, format="json")

    assert response.status_code == 200
    stored = get(integrator.client, verification_id).json()["verification"]
    assert stored["verificationConfig"]["verifierConfigs"]["faceRecognition"]["collectionId"] == "new-collection"
    assert stored["created"] == "2026-01-01T12:00:00Z"
    assert stored["lastModified"] == "2026-01-02T08:30:15Z"


def test_update_may_rename_but_not_onto_another_configs_name(integrator, create_body):
    verification_id = create(integrator.client, create_body)
    create(integrator.client, {**create_body, "name": "Second"})

    renamed = integrator.client.put(
        "/v1/verification/update", {**create_body, "name": "Renamed", "verificationId": verification_id}, format="json"
    )
    clash = integrator.client.put(
        "/v1/verification/update", {**create_body, "name": "Second", "verificationId": verification_id}, format="json"
    )

    assert renamed.status_code == 200
    assert get(integrator.client, verification_id).json()["verification"]["name"] == "Renamed"
    assert clash.status_code == 409
    assert get(integrator.client, verification_id).json()["verification"]["name"] == "Renamed"


def test_update_of_an_unknown_id_is_404(integrator, create_body):
    response = integrator.client.put(
        "/v1/verification/update",
        {**create_body, "verificationId": "39e00c96-6431-4b2e-8707-2fb80e561fbf"},
        format="json",
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_get_all_lists_only_this_accounts_configs_oldest_first(integrator, other_integrator, create_body):
    with time_machine.travel(dt.datetime(2026, 3, 1, tzinfo=UTC), tick=False):
        older = create(integrator.client, {**create_body, "name": "B older"})
    with time_machine.travel(dt.datetime(2026, 3, 2, tzinfo=UTC), tick=False):
        newer = create(integrator.client, {**create_body, "name": "A newer"})
    create(other_integrator.client, create_body)

    listed = integrator.client.get("/v1/verification/get-all").json()["verifications"]

    assert [v["verificationId"] for v in listed] == [older, newer]


def test_get_all_is_empty_for_a_new_account(integrator):
    assert integrator.client.get("/v1/verification/get-all").json() == {"verifications": []}


def test_delete_answers_the_id_and_a_second_delete_is_404(integrator, stored_id):
    first = integrator.client.delete(f"/v1/verification/delete?verificationId={stored_id}")
    second = integrator.client.delete(f"/v1/verification/delete?verificationId={stored_id}")

    assert first.status_code == 200
    assert first.json() == {"verificationId": stored_id}
    assert second.status_code == 404


def test_a_bearer_token_works_like_the_api_key(integrator, anonymous, create_body):
    token = integrator.client.get("/v1/token/get").json()["token"]
    anonymous.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    response = anonymous.post("/v1/verification/create", create_body, format="json")

    assert response.status_code == 200
    assert VerificationConfig.objects.get(id=response.json()["verificationId"]).account == integrator.account


# --- 401 / 405 / 413 / 415 ------------------------------------------------------------------------------------

ENDPOINTS = [
    ("get", "/v1/verification/get?verificationId=39e00c96-6431-4b2e-8707-2fb80e561fbf"),
    ("get", "/v1/verification/get-all"),
    ("post", "/v1/verification/create"),
    ("post", "/v1/verification/create-or-update"),
    ("put", "/v1/verification/update"),
    ("delete", "/v1/verification/delete?verificationId=39e00c96-6431-4b2e-8707-2fb80e561fbf"),
]


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
@pytest.mark.parametrize("header", [None, "ApiKey lp_sk_000000000000_wrong"])
def test_every_endpoint_answers_401_without_valid_credentials(anonymous, method, url, header, create_body):
    if header:
        anonymous.credentials(HTTP_AUTHORIZATION=header)

    if method in ("post", "put"):
        response = getattr(anonymous, method)(url, create_body, format="json")
    else:
        response = getattr(anonymous, method)(url)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert "ApiKey" in response["WWW-Authenticate"]
    assert not VerificationConfig.objects.exists()


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_every_endpoint_answers_405_in_the_error_shape_for_the_wrong_method(integrator, method, url):
    wrong = "patch"
    response = getattr(integrator.client, wrong)(url, {}, format="json")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize("url", ["/v1/verification/create", "/v1/verification/create-or-update"])
def test_an_oversized_body_is_refused_with_413_before_parsing(integrator, url, settings, create_body):
    create_body["name"] = "x" * (settings.API_MAX_BODY_BYTES + 1)

    response = integrator.client.post(url, create_body, format="json")

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert not VerificationConfig.objects.exists()


def test_a_form_encoded_body_is_415(integrator):
    response = integrator.client.post(
        "/v1/verification/create", "name=x", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_an_update_that_races_a_delete_answers_404(integrator, create_body, monkeypatch):
    from apps.verifications import services

    verification_id = create(integrator.client, create_body)
    found = services.verification_get

    def read_then_deleted(**kwargs):
        verification = found(**kwargs)
        VerificationConfig.objects.filter(id=verification.id).delete()  # a delete that commits after the read
        return verification

    monkeypatch.setattr(services, "verification_get", read_then_deleted)
    body = {**create_body, "name": "Renamed", "verificationId": verification_id}
    response = integrator.client.put("/v1/verification/update", body, format="json")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
