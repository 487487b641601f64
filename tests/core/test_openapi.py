from __future__ import annotations

import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_the_whole_openapi_schema_validates_without_a_single_warning(tmp_path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out), stderr=io.StringIO())
    schema = out.read_text()
    for path in ("/v1/verification/create-session", "/v1/signature/create", "/v1/face/compare", "/v1/healthz"):
        assert f"{path}:" in schema


@pytest.fixture
def served_schema(client) -> dict:
    response = client.get("/swagger/schema.json")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    return response.json()


@pytest.mark.django_db
def test_the_served_schema_is_json_and_the_same_document_is_yaml_at_schema_yaml(client, served_schema):
    import yaml

    response = client.get("/swagger/schema.yaml")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.oai.openapi;")
    assert yaml.safe_load(response.content) == served_schema


@pytest.mark.django_db
def test_the_schema_states_the_constraints_the_server_enforces(served_schema):
    paths, components = served_schema["paths"], served_schema["components"]["schemas"]
    collection = paths["/v1/collection/get"]["get"]["parameters"][0]["schema"]
    face = paths["/v1/face/get"]["get"]["parameters"][0]["schema"]
    assert collection["minLength"] == 1 and collection["maxLength"] == 128 and collection["pattern"]
    assert face["pattern"] == "^[0-9a-fA-F]{32}$"
    assert components["WebhookTestInputRequest"]["properties"]["url"]["format"] == "uri"
    assert components["AllowedRedirectOriginsRequest"]["properties"]["allowedRedirectOrigins"]["type"] == "array"
    create_session = paths["/v1/verification/create-session"]["post"]["requestBody"]
    assert create_session["required"] is True
    one_of_two, recovery_needs_user = components["CreateSessionRequest"]["allOf"]
    assert one_of_two["anyOf"] == [{"required": ["verifierConfigs"]}, {"required": ["verificationId"]}]
    assert recovery_needs_user["anyOf"][1] == {"required": ["entryUserId"]}
    report = paths["/v1/verification/get-session-photo-report"]["get"]["responses"]
    assert {"400", "401"} <= set(report)


@pytest.mark.django_db
def test_verif_settings_refuses_a_display_name_that_is_not_a_string(integrator):
    response = integrator.client.post("/v1/verif/settings", {"displayName": 0}, format="json")
    assert response.status_code == 400
    assert "displayName" in response.json()["error"]["fields"]
