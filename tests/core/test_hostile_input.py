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
    settings.DIRECT_SESSIONS_PER_HOUR = 1_000_000  # the tests' one client address would reach the limit (429)
    depth = BRACKETS_BYTES // (len(nesting) + 1)
    body = nesting * depth + "1" + ("]" if nesting == "[" else "}") * depth
    for method, path in _json_operations():
        response = getattr(integrator.client, method)(path, body, content_type="application/json")
        assert response.status_code == 400, (method, path, response.status_code)
        assert _is_error_shape(response.json(), "malformed_json"), (method, path, response.content[:200])


@pytest.mark.parametrize(
    "body",
    [
        '{"\\ud800": 1}',  # an unknown key, echoed by the error message DRF's renderer could not encode
        '{"verifierConfigs": {}, "customInputParameters": {"k\\ud800": "v"}}',  # a key into a JSONB column
        '{"allowedRedirectOrigins": ["https://a\\udfff.example"]}',  # a value no string field read
    ],
)
def test_a_lone_surrogate_anywhere_in_json_gets_a_400_on_every_json_endpoint(integrator, body, settings):
    """A lone surrogate is not text: key or value, it gave 500s (a renderer, JSONB, a library's hashing)."""
    settings.DIRECT_SESSIONS_ENABLED = True
    settings.DIRECT_SESSIONS_PER_HOUR = 1_000_000
    for method, path in _json_operations():
        response = getattr(integrator.client, method)(path, body, content_type="application/json")
        assert response.status_code == 400, (method, path, response.status_code)
        assert _is_error_shape(response.json(), "malformed_json"), (method, path, response.content[:200])


def test_a_surrogate_pair_is_text_and_stays_accepted(integrator):
    body = '{"verifierConfigs": {}, "customInputParameters": {"emoji": "\\ud83d\\ude00"}}'
    response = integrator.client.post("/v1/verification/create-session", body, content_type="application/json")
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("path", ["/v1/healthz", "/v1/datetime/utc-now", "/api/v1/captcha/challenge"])
def test_more_query_parameters_than_django_reads_is_a_400_not_a_500(integrator, path, settings):
    """Django refuses more than DATA_UPLOAD_MAX_NUMBER_FIELDS parameters with SuspiciousOperation: a 400 of its
    own, which the API's error middleware turned into a 500 (with no key needed on these paths)."""
    settings.DIRECT_SESSIONS_ENABLED = True
    query = "&".join(f"p{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    response = integrator.client.get(f"{path}?{query}")
    assert response.status_code == 400, (path, response.status_code)
    assert _is_error_shape(response.json(), "invalid")


def test_too_many_form_fields_on_the_face_and_selfie_endpoints_are_400s(integrator, settings):
    fields = {f"f{i}": "1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    compare = integrator.client.post("/v1/face/compare", fields)  # multipart, as the test client sends a dict
    assert compare.status_code == 400 and _is_error_shape(compare.json(), "invalid"), compare.content[:200]
    submit = Client().post("/verif/submit", {"api_key": "pk_wrong", "user_identifier": "u", **fields})
    assert submit.status_code == 400 and _is_error_shape(submit.json(), "invalid"), submit.content[:200]


def test_a_nul_in_a_selfie_submissions_text_is_a_400_before_any_analysis(integrator):
    """It was a 500 after seconds of video analysis (PostgreSQL text cannot hold NUL), nothing stored."""
    from apps.faces.models import SelfieCheck

    for field in ("user_identifier", "user_email", "user_phone"):
        form = {"api_key": "pk_not_checked_yet", "user_identifier": "user", field: "a\x00b"}
        response = Client().post("/verif/submit", form)
        assert response.status_code == 400, (field, response.content[:200])
        assert _is_error_shape(response.json(), "invalid") and field in response.json()["error"]["fields"]
    assert not SelfieCheck.objects.exists()


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
    # Our ASGI handler (apps/core/asgi.py) gives a chunked body its Content-Length under daphne and granian
    # (tests/core/test_served_http.py); behind another handler Django would read it as empty, so it is refused.
    response = integrator.client.generic(
        "POST",
        "/v1/verification/create-session",
        b"",
        content_type="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
    )
    assert response.status_code == 411 and _is_error_shape(response.json(), "length_required")


@pytest.mark.parametrize(
    "url",
    [
        "/admin/capture/session/?status=%00",
        "/admin/audit/auditevent/?type=a%00b",
        "/admin/webhooks/webhookevent/zz%00/change/",
    ],
)
def test_a_nul_in_an_admin_address_is_a_400(admin_client, url):
    """PostgreSQL refuses NUL in text: a list filter or an object id holding one was a 500 (DataError)."""
    require_postgres()
    response = admin_client.get(url)
    assert response.status_code == 400, (url, response.status_code)
