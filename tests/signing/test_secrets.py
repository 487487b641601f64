"""Per-account signing secrets: readable by their account only, rotatable with an overlap."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from apps.signing.models import SigningSecret
from apps.signing.services import MAX_PREVIOUS_SECRETS, signing_secrets_valid

from .helpers import NOW, locally_signed, secret_of

pytestmark = pytest.mark.django_db

OVERLAP = 3600


def sign(integrator) -> str:
    body = {"queryString": "userId=7", "securitySettings": {"expirationEnabled": False}}
    return integrator.client.post("/v1/signature/create", body, format="json").json()["signedQueryString"]


def result(integrator, query_string) -> str:
    response = integrator.client.post("/v1/signature/validate", {"queryString": query_string}, format="json")
    return response.json()["result"]


def rotate(integrator, **body):
    return integrator.client.post("/v1/signature/rotate-secret", body, format="json")


@override_settings(SIGNING_SECRET_OVERLAP_SECONDS=OVERLAP)
def test_a_rotated_secret_keeps_validating_for_the_overlap_only(integrator, frozen):
    before = sign(integrator)
    old_secret = secret_of(integrator)
    response = rotate(integrator)
    assert response.status_code == 200
    assert response.json()["secret"] != old_secret
    assert response.json()["previousSecrets"] == [{"secret": old_secret, "validUntil": int(NOW.timestamp()) + OVERLAP}]
    after = sign(integrator)
    assert before != after
    frozen.shift(OVERLAP)
    assert result(integrator, before) == "Valid"
    frozen.shift(1)
    assert result(integrator, before) == "InvalidSignature"
    assert result(integrator, after) == "Valid"
    assert secret_of(integrator) == response.json()["secret"]
    assert integrator.client.get("/v1/signature/secret").json()["previousSecrets"] == []


def test_revoking_the_previous_secret_voids_its_signatures_at_once(integrator):
    before = sign(integrator)
    assert rotate(integrator, revokePrevious=True).json()["previousSecrets"] == []
    assert result(integrator, before) == "InvalidSignature"
    assert result(integrator, sign(integrator)) == "Valid"


def test_a_malformed_rotate_body_is_a_400(integrator):
    response = rotate(integrator, revokePrevious="yes")
    assert response.status_code == 400
    assert "revokePrevious" in response.json()["error"]["fields"]


def test_the_secret_from_the_api_signs_links_the_service_accepts(integrator, other_integrator):
    query = locally_signed(secret_of(integrator), [("userId", "7"), ("note", "a&b=c d")])
    assert result(integrator, query) == "Valid"
    assert result(other_integrator, query) == "InvalidSignature"


def test_the_database_never_holds_a_usable_signing_secret(integrator):
    secret = secret_of(integrator)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM signing_signingsecret")
        dumped = repr(cursor.fetchall())
    assert secret.removeprefix("lp_ss_") not in dumped


def test_publishable_keys_can_neither_read_the_secret_nor_sign(integrator, anonymous):
    from apps.accounts.services import api_key_create

    publishable = api_key_create(account=integrator.account, kind="publishable").plaintext
    anonymous.credentials(HTTP_AUTHORIZATION=f"ApiKey {publishable}")
    assert anonymous.get("/v1/signature/secret").status_code == 401
    assert anonymous.post("/v1/signature/create", {"queryString": "a=1"}, format="json").status_code == 401


def test_only_the_five_most_recent_previous_secrets_stay_valid(integrator):
    signed = [sign(integrator)]
    for _ in range(6):
        rotate(integrator)
        signed.append(sign(integrator))
    assert [result(integrator, query) for query in signed] == ["InvalidSignature"] + ["Valid"] * 6
    assert len(integrator.client.get("/v1/signature/secret").json()["previousSecrets"]) == 5


@override_settings(SIGNING_SECRET_OVERLAP_SECONDS=OVERLAP)
def test_the_valid_secrets_come_from_one_query_current_first_and_capped(integrator, frozen):
    account = integrator.account
    first = signing_secrets_valid(account=account)  # the first use creates the current secret
    assert len(first) == 1 and first[0].retired_at is None
    for _ in range(MAX_PREVIOUS_SECRETS + 2):
        frozen.shift(1)
        rotate(integrator)
    with CaptureQueriesContext(connection) as queries:
        valid = signing_secrets_valid(account=account)
    assert len(queries.captured_queries) == 1
    retired = SigningSecret.objects.filter(account=account, retired_at__isnull=False).order_by("-retired_at", "-id")
    assert valid[0].retired_at is None
    assert [s.id for s in valid[1:]] == [s.id for s in retired[:MAX_PREVIOUS_SECRETS]]
    # Only retired secrets left (the current one deleted behind its back): a new current one, then the cap.
    SigningSecret.objects.filter(account=account, retired_at__isnull=True).delete()
    again = signing_secrets_valid(account=account)
    assert again[0].retired_at is None and len(again) == 1 + MAX_PREVIOUS_SECRETS
