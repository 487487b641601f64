"""The admin edits configs through the same validation and services as the API."""

from __future__ import annotations

import json

import pytest

from apps.verifications.models import VerificationConfig

from .conftest import create, seed_body

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/verifications/verificationconfig/add/"
LIST_URL = "/admin/verifications/verificationconfig/"


def change_url(verification_id) -> str:
    return f"/admin/verifications/verificationconfig/{verification_id}/change/"


def form(account, name: str, config) -> dict[str, str]:
    return {"account": str(account.pk), "name": name, "verification_config": json.dumps(config), "_save": "Save"}


def test_the_admin_refuses_what_the_api_refuses_with_the_same_field_paths(admin_client, integrator):
    config = seed_body("create_request")["verificationConfig"]
    config["resultParameterConfig"]["includeAgee"] = True
    config["verifierConfigs"]["liveness"]["type"] = "Strict"

    response = admin_client.post(ADD_URL, form(integrator.account, "Typo", config))
    body = {"name": "Typo", "verificationConfig": config}
    api = integrator.client.post("/v1/verification/create", body, format="json")

    assert response.status_code == 200  # the form is shown again
    page = response.content.decode()
    for path, messages in api.json()["error"]["fields"].items():
        for message in messages:
            assert f"{path}: {message}".replace('"', "&quot;") in page
    assert not VerificationConfig.objects.exists()


def test_the_admin_refuses_malformed_json(admin_client, integrator):
    data = {**form(integrator.account, "Broken", {}), "verification_config": '{"verifierConfigs": '}

    response = admin_client.post(ADD_URL, data)

    assert response.status_code == 200
    assert "Enter a valid JSON." in response.content.decode()
    assert not VerificationConfig.objects.exists()


def test_a_config_added_in_the_admin_is_stored_exactly_as_the_api_would_store_it(admin_client, integrator):
    body = seed_body("create_request")
    api_id = create(integrator.client, {**body, "name": "From the API"})

    response = admin_client.post(ADD_URL, form(integrator.account, "From the admin", body["verificationConfig"]))

    assert response.status_code == 302
    from_admin = VerificationConfig.objects.get(name="From the admin")
    from_api = VerificationConfig.objects.get(id=api_id)
    assert from_admin.account == integrator.account
    assert from_admin.config == from_api.config
    assert from_admin.submitted_config == body["verificationConfig"]


def test_the_admin_refuses_a_name_the_account_already_uses(admin_client, integrator, stored_id):
    config = seed_body("create_request")["verificationConfig"]

    response = admin_client.post(ADD_URL, form(integrator.account, "Test Verification", config))

    assert response.status_code == 200
    assert "A verification configuration with the same name already exists." in response.content.decode()
    assert VerificationConfig.objects.count() == 1


def test_editing_in_the_admin_replaces_the_config_the_api_answers(admin_client, integrator, stored_id):
    config = seed_body("update_request")["verificationConfig"]

    page = admin_client.get(change_url(stored_id)).content.decode()
    response = admin_client.post(change_url(stored_id), form(integrator.account, "Renamed", config))

    assert '"challengeType": "Balanced"' in page.replace("&quot;", '"')  # shown as indented JSON
    assert response.status_code == 302
    got = integrator.client.get(f"/v1/verification/get?verificationId={stored_id}").json()["verification"]
    assert got["name"] == "Renamed"
    assert got["verificationConfig"] == config


def test_the_list_summarises_each_block_readably(admin_client, integrator, stored_id):
    page = admin_client.get(LIST_URL).content.decode()

    assert "Test Verification" in page
    assert "DuplicateVerification (my-collection)" in page
    assert "Balanced" in page
    assert "CalculationOnly" in page


def test_duplicating_makes_copies_with_free_names_and_the_same_config(admin_client, integrator, stored_id):
    for _ in range(2):
        response = admin_client.post(LIST_URL, {"action": "duplicate", "_selected_action": [stored_id]})
        assert response.status_code == 302

    names = set(VerificationConfig.objects.values_list("name", flat=True))
    assert names == {"Test Verification", "Test Verification (copy)", "Test Verification (copy 2)"}
    original = VerificationConfig.objects.get(id=stored_id)
    copy = VerificationConfig.objects.get(name="Test Verification (copy)")
    assert copy.config == original.config
    assert copy.account == original.account
    assert copy.id != original.id


@pytest.mark.parametrize("how", ["delete view", "delete_selected action"])
def test_a_config_deleted_in_the_admin_is_audited_as_the_apis_delete(admin_client, integrator, how):
    from apps.audit.models import AuditEvent

    verification_id = create(integrator.client, {**seed_body("create_request"), "name": "Old"})
    if how == "delete view":
        response = admin_client.post(
            f"/admin/verifications/verificationconfig/{verification_id}/delete/", {"post": "yes"}
        )
    else:
        data = {"action": "delete_selected", "_selected_action": [verification_id], "post": "yes"}
        response = admin_client.post(LIST_URL, data)
    assert response.status_code == 302
    assert not VerificationConfig.objects.filter(pk=verification_id).exists()
    assert AuditEvent.objects.filter(type="verification.deleted", subject_id=str(verification_id)).exists()
