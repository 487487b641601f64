"""Another account's verificationId answers exactly like an unknown one, on every endpoint."""

from __future__ import annotations

import pytest

from apps.verifications.models import VerificationConfig

from .conftest import seed_body

pytestmark = pytest.mark.django_db

UNKNOWN_ID = "39e00c96-6431-4b2e-8707-2fb80e561fbf"


def call(client, endpoint: str, verification_id: str):
    if endpoint == "get":
        return client.get(f"/v1/verification/get?verificationId={verification_id}")
    if endpoint == "delete":
        return client.delete(f"/v1/verification/delete?verificationId={verification_id}")
    if endpoint == "update":
        body = {**seed_body("update_request"), "verificationId": verification_id}
        return client.put("/v1/verification/update", body, format="json")
    if endpoint == "update (renaming onto its name)":
        body = {**seed_body("update_request"), "verificationId": verification_id, "name": "Theirs"}
        return client.put("/v1/verification/update", body, format="json")
    raise AssertionError(endpoint)


@pytest.mark.parametrize("endpoint", ["get", "update", "update (renaming onto its name)", "delete"])
def test_another_accounts_id_answers_404_exactly_like_an_unknown_id(integrator, other_integrator, endpoint):
    theirs = other_integrator.client.post(
        "/v1/verification/create", {**seed_body("create_request"), "name": "Theirs"}, format="json"
    ).json()["verificationId"]
    before = other_integrator.client.get(f"/v1/verification/get?verificationId={theirs}").json()

    foreign = call(integrator.client, endpoint, theirs)
    unknown = call(integrator.client, endpoint, UNKNOWN_ID)

    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json() == unknown.json()
    assert foreign.json()["error"]["code"] == "not_found"
    # Their config is untouched and still theirs.
    assert other_integrator.client.get(f"/v1/verification/get?verificationId={theirs}").json() == before
    assert VerificationConfig.objects.get(id=theirs).account == other_integrator.account


def test_get_all_and_create_or_update_never_reveal_another_accounts_configs(integrator, other_integrator):
    body = seed_body("create_request")
    theirs = other_integrator.client.post("/v1/verification/create", body, format="json").json()["verificationId"]

    listed = integrator.client.get("/v1/verification/get-all").json()
    mine = integrator.client.post("/v1/verification/create-or-update", body, format="json").json()

    assert listed == {"verifications": []}
    assert mine["wasCreated"] is True
    assert mine["verificationId"] != theirs
    assert integrator.client.post("/v1/verification/create", body, format="json").status_code == 409
