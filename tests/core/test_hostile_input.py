"""Hostile input that crashed the service with a 500: each gets a documented 4xx instead."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from apps.sessions.models import Session
from tests.conftest import require_postgres
from tests.signing.helpers import verification_create

pytestmark = pytest.mark.django_db

BRACKETS_BYTES = 200_000  # under the 256 KB body limit, and far deeper than Python's recursion limit


def _json_operations() -> list[tuple[str, str]]:
    """Every (method, path) of the OpenAPI schema that takes a JSON body, path parameters filled in."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = []
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            content = (operation.get("requestBody") or {}).get("content", {})
            if "application/json" in content:
                operations.append((method, re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)))
    return operations


def _is_error_shape(body: Any, code: str) -> bool:
    return isinstance(body, dict) and body.get("error", {}).get("code") == code and "message" in body["error"]


def test_every_json_operation_is_covered():
    assert len(_json_operations()) >= 10


@pytest.mark.parametrize("nesting", ["[", '{"a":'])
def test_deeply_nested_json_gets_a_400_in_the_error_shape_on_every_json_endpoint(integrator, nesting, settings):
    settings.DIRECT_SESSIONS_ENABLED = True  # turned off, POST /api/v1/session is a 404 before it reads a body
    depth = BRACKETS_BYTES // (len(nesting) + 1)
    body = nesting * depth + "1" + ("]" if nesting == "[" else "}") * depth
    for method, path in _json_operations():
        response = getattr(integrator.client, method)(path, body, content_type="application/json")
        assert response.status_code == 400, (method, path, response.status_code)
        assert _is_error_shape(response.json(), "malformed_json"), (method, path, response.content[:200])


def test_json_nested_past_the_configured_depth_is_refused_even_when_python_could_parse_it(integrator, settings):
    deep = {"name": "x", "verificationConfig": {}}
    node = deep["verificationConfig"]
    for _ in range(settings.API_MAX_JSON_DEPTH):
        node["a"] = {}
        node = node["a"]
    response = integrator.client.post("/v1/verification/create", deep, format="json")
    assert response.status_code == 400 and _is_error_shape(response.json(), "malformed_json")
    assert "nested" in response.json()["error"]["message"]


@pytest.mark.parametrize("query", ["x=%00", "%00=1", "userId=a%00b"])
def test_a_nul_in_a_hosted_link_query_is_a_400_page(integrator, query):
    vid = verification_create(integrator, securityConfig={"forceSignedInput": False})
    response = Client().get(f"/v/{vid}?{query}")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert not Session.objects.exists()


@pytest.mark.parametrize(
    ("parameters", "field"),
    [
        ({"a\u0000b": "v"}, "customInputParameters"),
        ({"k": "v\u0000"}, "customInputParameters.k"),
    ],
)
def test_a_nul_in_custom_input_parameters_is_a_400_on_postgresql(integrator, parameters, field):
    require_postgres()
    body = {
        "verifierConfigs": {"liveness": {"type": "Verification", "challengeType": "Passive"}},
        "customInputParameters": parameters,
    }
    response = integrator.client.post("/v1/verification/create-session", body, format="json")
    assert response.status_code == 400, response.content
    assert _is_error_shape(response.json(), "invalid") and field in response.json()["error"]["fields"]
    assert not Session.objects.exists()


def test_a_chunked_body_without_a_length_gets_411_in_the_error_shape_when_the_server_does_not_add_one(integrator):
    # `python -m config.serve` turns a chunked body into one with a Content-Length (tests/core/test_served_http.py);
    # behind another server Django would read it as empty, so it is refused instead of misread.
    response = integrator.client.generic(
        "POST",
        "/v1/verification/create-session",
        b"",
        content_type="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
    )
    assert response.status_code == 411 and _is_error_shape(response.json(), "length_required")
