"""Every request example of the served OpenAPI document works as shown, with the demo's key.

Before, Swagger UI made up the create-session body from the schema (a random
``verificationId``) and the update example named a verification nobody had: both 404.
The examples here are read from ``/swagger/schema.json``, as Swagger UI reads them.
"""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

# The order an integrator tries them in Swagger UI: create (a new name) before the fixed-id update.
ORDER = [
    "/v1/verification/create",
    "/v1/verification/create-or-update",
    "/v1/verification/update",
    "/v1/verification/create-session",
    "/v1/signature/create",
]


def _demo_key() -> str:
    out = io.StringIO()
    call_command("demo_setup", stdout=out)
    call_command("verification_examples_setup", stdout=io.StringIO())
    return re.search(r"Demo API key: (\S+)", out.getvalue()).group(1)  # type: ignore[union-attr]


def _request_examples(schema: dict) -> list[tuple[str, str, str, dict]]:
    found = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            for name, example in content.get("examples", {}).items():
                found.append((path, method, name, example["value"]))
    return found


def test_every_request_example_in_the_served_schema_answers_2xx_with_the_demo_key(client):
    schema = client.get("/swagger/schema.json").json()
    examples = _request_examples(schema)
    assert {path for path, *_ in examples} == set(ORDER), "a new example: add its path to ORDER"
    assert len([e for e in examples if e[0] == "/v1/verification/create-session"]) >= 3
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"ApiKey {_demo_key()}")
    created = None
    for path, method, name, value in sorted(examples, key=lambda e: ORDER.index(e[0])):
        if path == "/v1/verification/update" and created:
            # Names are unique per account: free "Test Verification", which the create example took.
            assert api.delete(f"/v1/verification/delete?verificationId={created}").status_code == 200
            created = None
        response = getattr(api, method)(path, value, format="json")
        assert response.status_code == 200, (path, name, response.content)
        created = response.json().get("verificationId") if path == "/v1/verification/create" else created


def test_the_examples_verification_is_reset_by_running_the_setup_again(client):
    from apps.verifications.models import VerificationConfig
    from apps.verifications.schema import SEED_ID

    _demo_key()
    VerificationConfig.objects.filter(id=SEED_ID).update(name="renamed", submitted_config={})
    call_command("verification_examples_setup", stdout=io.StringIO())
    seed = VerificationConfig.objects.get(id=SEED_ID)
    assert seed.name == "Demo verification" and seed.account.name == "Demo integrator"
    assert seed.submitted_config["verifierConfigs"]["liveness"]["challengeType"] == "Balanced"
