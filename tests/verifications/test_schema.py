"""The OpenAPI schema documents every verification endpoint, code and enum value."""

from __future__ import annotations

import json
from typing import Any

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from apps.verifications import enums

from .conftest import seed_body

# Response codes per endpoint, as the Service API document lists them (+413 for bodies, which the middleware adds).
DOCUMENTED = {
    ("/v1/verification/get", "get"): {"200", "400", "401", "404"},
    ("/v1/verification/get-all", "get"): {"200", "401"},
    ("/v1/verification/create", "post"): {"200", "400", "401", "409", "413", "415"},
    ("/v1/verification/create-or-update", "post"): {"200", "400", "401", "413", "415"},
    ("/v1/verification/update", "put"): {"200", "400", "401", "404", "409", "413", "415"},
    ("/v1/verification/delete", "delete"): {"200", "400", "401", "404"},
}


@pytest.fixture(scope="module")
def served() -> tuple[dict[str, Any], list[str]]:
    """The schema exactly as /swagger/schema.json serves it, and the generator's warnings."""
    GENERATOR_STATS.reset()
    response = APIClient().get("/swagger/schema.json?format=json")
    assert response.status_code == 200
    return json.loads(response.content), list(GENERATOR_STATS._warn_cache)


def test_the_served_schema_is_valid_openapi(served):
    schema, _ = served
    validate_schema(schema)


def test_no_schema_warning_comes_from_the_verification_endpoints(served):
    _, warnings = served
    assert [w for w in warnings if "verifications" in w or "Verification" in w] == []


@pytest.mark.parametrize(("path", "method"), list(DOCUMENTED))
def test_every_endpoint_documents_its_codes_auth_and_error_body(served, path, method):
    schema, _ = served
    operation = schema["paths"][path][method]

    assert set(operation["responses"]) == DOCUMENTED[(path, method)]
    for code, response in operation["responses"].items():
        if code != "200":
            assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert {"ApiKey": []} in operation["security"]
    assert {"Bearer": []} in operation["security"]
    if method in ("post", "put"):
        assert operation["requestBody"]["required"] is True
    else:
        assert "requestBody" not in operation


def test_get_and_delete_document_the_required_query_parameter(served):
    schema, _ = served
    for path in ("/v1/verification/get", "/v1/verification/delete"):
        [parameter] = next(iter(schema["paths"][path].values()))["parameters"]
        assert parameter["name"] == "verificationId"
        assert parameter["in"] == "query"
        assert parameter["required"] is True
        assert parameter["schema"]["format"] == "uuid"


@pytest.mark.parametrize(("component", "enum"), list(enums.ALL_ENUMS.items()))
def test_the_schema_lists_every_enum_value(served, component, enum):
    schema, _ = served
    assert schema["components"]["schemas"][component]["enum"] == list(enum.values)


def test_request_bodies_are_closed_objects_with_all_14_result_flags(served):
    schema, _ = served
    components = schema["components"]["schemas"]

    flags = components["ResultParameterConfigRequest"]
    assert tuple(flags["properties"]) == enums.RESULT_PARAMETER_FLAGS
    assert flags["additionalProperties"] is False
    assert components["VerificationWriteRequest"]["additionalProperties"] is False
    assert components["VerifierConfigsRequest"]["properties"].keys() == {
        "liveness",
        "age",
        "gender",
        "faceRecognition",
        "commonSettings",
    }


def test_swagger_shows_the_seed_examples_verbatim(served):
    schema, _ = served
    create = schema["paths"]["/v1/verification/create"]["post"]["requestBody"]["content"]["application/json"]
    get = schema["paths"]["/v1/verification/get"]["get"]["responses"]["200"]["content"]["application/json"]

    assert next(iter(create["examples"].values()))["value"] == seed_body("create_request")
    update = schema["paths"]["/v1/verification/update"]["put"]["requestBody"]["content"]["application/json"]
    assert next(iter(update["examples"].values()))["value"] == seed_body("update_request")
    assert next(iter(get["examples"].values()))["value"] == seed_body("get_response")
