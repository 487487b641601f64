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
