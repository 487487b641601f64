"""``manage.py demo_setup``: what scripts/run prints is real and works, and running it again is safe."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def _setup() -> dict[str, str]:
    out = io.StringIO()
    call_command("demo_setup", "--base-url", "http://127.0.0.1:8000/", stdout=out)
    text = out.getvalue()
    for label in ("API:", "Swagger:", "Admin:", "Demo:", "Health:"):
        assert re.search(rf"{label}\s+http://127\.0\.0\.1:8000/", text), (label, text)
    return {
        "key": re.search(r"Demo API key: (\S+)", text).group(1),  # type: ignore[union-attr]
        "password": re.search(r"login: admin / (\S+)\)", text).group(1),  # type: ignore[union-attr]
    }


def _status_with(key: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"ApiKey {key}")
    return client.get("/v1/verification/get-all").status_code


def _admin_login(password: str) -> bool:
    """Log in through the admin's own form (django-axes watches it), as an operator would."""
    response = Client().post("/admin/login/", {"username": "admin", "password": password})
    return response.status_code == 302


def test_demo_setup_prints_a_working_key_and_admin_login_and_can_run_again():
    first = _setup()
    assert _status_with(first["key"]) == 200
    assert _admin_login(first["password"])
    second = _setup()  # scripts/run calls it on every start
    assert _status_with(second["key"]) == 200
    assert _status_with(first["key"]) == 401  # keys are shown once: the old one is retired
    assert _admin_login(second["password"])
    assert not _admin_login(first["password"])
