"""Helpers that sign like an integrator would: through the API, or locally with the secret it reads."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from apps.signing.canonical import query_encode, signature_compute

NOW = dt.datetime(2026, 5, 21, 18, 32, 25, tzinfo=dt.UTC)


def secret_of(integrator) -> str:
    """The signing secret as the integrator reads it from the API."""
    return integrator.client.get("/v1/signature/secret").json()["secret"]


def locally_signed(secret: str, params: list[tuple[str, str]], purpose: str = "link") -> str:
    signature = signature_compute(secret=secret, purpose=purpose, params=params)
    return f"{query_encode(params)}&reSignature={signature}"


SEED_CREATE_EXAMPLE = Path(__file__).resolve().parents[1] / "verifications" / "fixtures" / "create_curl_request.json"


def verification_config(**blocks) -> dict:
    """The seed's example verificationConfig (without face recognition), with blocks replaced."""
    config = json.loads(SEED_CREATE_EXAMPLE.read_text())["verificationConfig"]
    del config["verifierConfigs"]["faceRecognition"]
    for name, value in blocks.items():
        config[name] = {**config[name], **value}
    return config


def verification_create(integrator, name: str = "Test Verification", **blocks) -> str:
    body = {"name": name, "verificationConfig": verification_config(**blocks)}
    response = integrator.client.post("/v1/verification/create", body, format="json")
    assert response.status_code == 200, response.json()
    return response.json()["verificationId"]


def signed_link(integrator, query: str, **security) -> str:
    body = {"queryString": query, "securitySettings": security} if security else {"queryString": query}
    response = integrator.client.post("/v1/signature/create", body, format="json")
    assert response.status_code == 200, response.json()
    return response.json()["signedQueryString"]
