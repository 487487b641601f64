from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test import Client

from apps.accounts.models import ApiKey
from apps.accounts.services import api_key_revoke


@pytest.mark.django_db
def test_the_database_never_holds_a_usable_key(integrator):
    stored = ApiKey.objects.get(account=integrator.account)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apikey")
        rows = cursor.fetchall()
    dumped = repr(rows)
    secret_part = integrator.key.rsplit("_", 1)[1]
    assert secret_part not in dumped
    assert integrator.key not in dumped
    assert stored.prefix and integrator.key.startswith(stored.prefix)


@pytest.mark.django_db
def test_a_valid_key_authenticates_and_records_last_use(integrator):
    response = integrator.client.get("/v1/datetime/utc-now")
    assert response.status_code == 200
    assert response.json()["utcNow"].endswith("Z")
    assert ApiKey.objects.get(account=integrator.account).last_used_at is not None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header",
    ["", "ApiKey nope", "ApiKey lp_sk_000000000000_wrong", "Bearer not.a.jwt", "Basic dXNlcjpwYXNz", "ApiKey"],
)
def test_missing_or_bad_credentials_get_401_with_the_error_shape(anonymous, integrator, header):
    if header:
        anonymous.credentials(HTTP_AUTHORIZATION=header)
    response = anonymous.get("/v1/datetime/utc-now")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert "ApiKey" in response["WWW-Authenticate"]


@pytest.mark.django_db
def test_a_key_with_the_right_prefix_but_wrong_secret_is_refused(anonymous, integrator):
    forged = integrator.key[:-4] + ("aaaa" if not integrator.key.endswith("aaaa") else "bbbb")
    anonymous.credentials(HTTP_AUTHORIZATION=f"ApiKey {forged}")
    assert anonymous.get("/v1/datetime/utc-now").status_code == 401


@pytest.mark.django_db
def test_a_revoked_key_and_its_tokens_stop_working(integrator):
    token = integrator.client.get("/v1/token/get").json()["token"]
    api_key_revoke(api_key=ApiKey.objects.get(account=integrator.account))
    assert integrator.client.get("/v1/datetime/utc-now").status_code == 401
    integrator.client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert integrator.client.get("/v1/datetime/utc-now").status_code == 401


@pytest.mark.django_db
def test_token_get_returns_a_bearer_token_that_authenticates(integrator, anonymous):
    body = integrator.client.get("/v1/token/get").json()
    assert set(body) == {"token", "expirationUtcTime"}
    anonymous.credentials(HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert anonymous.get("/v1/datetime/utc-now").status_code == 200
    # A token cannot mint another token.
    assert anonymous.get("/v1/token/get").status_code == 401


@pytest.mark.django_db
def test_an_expired_token_is_refused(integrator, anonymous, settings):
    token = integrator.client.get("/v1/token/get").json()["token"]
    anonymous.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=settings.API_TOKEN_TTL_SECONDS + 120)
    with time_machine.travel(later):
        assert anonymous.get("/v1/datetime/utc-now").status_code == 401


@pytest.mark.django_db
def test_a_publishable_key_cannot_call_the_server_api(anonymous):
    out = io.StringIO()
    call_command("create_api_key", "Pub Co", "--publishable", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    anonymous.credentials(HTTP_AUTHORIZATION=f"ApiKey {key}")
    assert anonymous.get("/v1/datetime/utc-now").status_code == 401


@pytest.mark.django_db
def test_create_api_key_command_prints_the_key_alone_on_its_last_line(anonymous):
    out = io.StringIO()
    call_command("create_api_key", "New Co", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    assert key.startswith("lp_sk_") and " " not in key
    anonymous.credentials(HTTP_AUTHORIZATION=f"ApiKey {key}")
    assert anonymous.get("/v1/datetime/utc-now").status_code == 200
    call_command("create_api_key", "New Co", stdout=io.StringIO())
    assert ApiKey.objects.filter(account__name="New Co").count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    "key",
    [
        "lp_pk_aaaaaaaaaa\x00a_secret",
        "lp_sk_aaaaaaaaaa\x00a_secret",
        "lp_sk_0123456789ab_sec\x00ret",
        "lp_sk_ééé000000000_x",
    ],
)
def test_a_key_with_a_character_outside_the_key_alphabet_is_an_unknown_key_wherever_it_is_sent(key):
    """A NUL in the lookup prefix reached PostgreSQL, which refused the query: a 500 on every entrance."""
    page = Client().get("/verif/", {"api_key": key, "user_identifier": "u"})
    assert page.status_code == 401
    submitted = Client().post("/verif/submit", {"api_key": key, "user_identifier": "u"})
    assert submitted.status_code == 401 and submitted.json()["error"]["code"] == "invalid_api_key"
    for scheme in ("ApiKey", "Bearer"):  # our own API, and iLive's key as a bearer
        api = Client().get("/v1/datetime/utc-now", HTTP_AUTHORIZATION=f"{scheme} {key}")
        assert api.status_code == 401
        ilive = Client().post("/api/v1/managed-session", {}, HTTP_AUTHORIZATION=f"{scheme} {key}")
        assert ilive.status_code == 401
