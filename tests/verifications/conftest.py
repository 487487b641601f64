"""Fixtures for the verification configuration API: the seed's own bodies, verbatim."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

FIXTURES = Path(__file__).parent / "fixtures"


def seed_body(name: str) -> dict[str, Any]:
    """A request or response body copied verbatim from the Service API document."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


def create(client: APIClient, body: dict[str, Any]) -> str:
    response = client.post("/v1/verification/create", body, format="json")
    assert response.status_code == 200, response.json()
    return response.json()["verificationId"]


@pytest.fixture
def create_body() -> dict[str, Any]:
    return copy.deepcopy(seed_body("create_request"))


@pytest.fixture
def stored_id(integrator: Any, create_body: dict[str, Any]) -> str:
    """The id of the seed's example config, created by ``integrator``."""
    return create(integrator.client, create_body)
