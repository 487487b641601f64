"""POST /v1/signature/create and /v1/signature/validate, per the Service API document."""

from __future__ import annotations

import json
import re

import pytest

from apps.signing.models import UsedNonce
from apps.signing.services import nonce_consume

from .helpers import NOW, locally_signed, secret_of

pytestmark = pytest.mark.django_db

SEED_CREATE = {
    "queryString": "key1=value1&key2=value2...keyN=valueN",
    "securitySettings": {"enableNonce": True, "expirationEnabled": True, "expirationInSeconds": 3600},
}
NOW_TS = int(NOW.timestamp())


def create(integrator, body):
    return integrator.client.post("/v1/signature/create", body, format="json")


def validate(integrator, query_string):
    return integrator.client.post("/v1/signature/validate", {"queryString": query_string}, format="json")


def test_the_seed_create_example_signs_with_expiration_and_nonce(integrator, frozen):
    response = create(integrator, SEED_CREATE)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"signature", "signedQueryString", "expiration", "nonce"}
    assert body["expiration"] == NOW_TS + 3600
    assert re.fullmatch(r"[0-9a-f]{32}", body["nonce"])
    assert re.fullmatch(r"[0-9a-f]{64}", body["signature"])
    assert body["signedQueryString"] == (
        f"key1=value1&key2=value2...keyN=valueN&reExpiration={NOW_TS + 3600}"
        f"&reNonce={body['nonce']}&reSignature={body['signature']}"
    )
    assert validate(integrator, body["signedQueryString"]).json() == {"result": "Valid"}


def test_the_seed_curl_example_with_900_seconds(integrator, frozen):
    body = {**SEED_CREATE, "securitySettings": {**SEED_CREATE["securitySettings"], "expirationInSeconds": 900}}
    assert create(integrator, body).json()["expiration"] == NOW_TS + 900


def test_without_security_settings_the_link_expires_after_one_day_and_has_no_nonce(integrator, frozen):
    body = create(integrator, {"queryString": "?userId=user123"}).json()
    assert body["expiration"] == NOW_TS + 86400
    assert body["nonce"] is None
    assert body["signedQueryString"] == f"?userId=user123&reExpiration={NOW_TS + 86400}&reSignature={body['signature']}"


def test_partial_security_settings_keep_the_other_defaults(integrator, frozen):
    body = create(integrator, {"queryString": "a=1", "securitySettings": {"enableNonce": True}}).json()
    assert body["expiration"] == NOW_TS + 86400 and body["nonce"]


def test_expiration_can_be_disabled(integrator):
    body = create(integrator, {"queryString": "a=1", "securitySettings": {"expirationEnabled": False}}).json()
    assert body["expiration"] is None and body["nonce"] is None
    assert body["signedQueryString"] == f"a=1&reSignature={body['signature']}"


def test_an_empty_query_string_can_be_signed(integrator):
    body = create(integrator, {"queryString": "", "securitySettings": {"expirationEnabled": False}}).json()
    assert body["signedQueryString"] == f"reSignature={body['signature']}"
    assert validate(integrator, body["signedQueryString"]).json() == {"result": "Valid"}


def test_a_nonce_without_expiration_is_a_400_naming_the_field(integrator):
    response = create(
        integrator, {"queryString": "a=1", "securitySettings": {"enableNonce": True, "expirationEnabled": False}}
    )
    assert response.status_code == 400
    assert "securitySettings.enableNonce" in response.json()["error"]["fields"]


@pytest.mark.parametrize("seconds", [0, -1, 604801, "3600", 3600.5, True, None])
def test_an_expiration_outside_1_to_604800_seconds_is_a_400(integrator, seconds):
    response = create(integrator, {"queryString": "a=1", "securitySettings": {"expirationInSeconds": seconds}})
    assert response.status_code == 400
    assert "securitySettings.expirationInSeconds" in response.json()["error"]["fields"]


@pytest.mark.parametrize("seconds", [1, 604800])
def test_the_expiration_range_bounds_are_accepted(integrator, seconds, frozen):
    response = create(integrator, {"queryString": "a=1", "securitySettings": {"expirationInSeconds": seconds}})
    assert response.json()["expiration"] == NOW_TS + seconds


@pytest.mark.parametrize(
    "query",
    ["a=1&a=2", "a=%zz", "reSignature=" + "0" * 64, "a=1&reNonce=" + "0" * 32, "a=1&reExpiration=1"],
)
def test_create_refuses_ambiguous_or_pre_signed_query_strings(integrator, query):
    response = create(integrator, {"queryString": query})
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["queryString"]


@pytest.mark.parametrize("body", [{}, {"queryString": 5}, {"queryString": None}, ["a=1"], {"queryString": ["a=1"]}])
def test_malformed_bodies_get_the_json_error_shape(integrator, body):
    for path in ("/v1/signature/create", "/v1/signature/validate"):
        response = integrator.client.post(path, body, format="json")
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid"


@pytest.mark.parametrize("security", ["x", {"enableNonce": "true"}, {"expirationEnabled": 0}])
def test_malformed_security_settings_are_a_400(integrator, security):
    response = create(integrator, {"queryString": "a=1", "securitySettings": security})
    assert response.status_code == 400
    assert any(field.startswith("securitySettings") for field in response.json()["error"]["fields"])


def test_broken_json_is_a_400_not_a_500(integrator):
    response = integrator.client.post("/v1/signature/validate", "{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"


def test_both_endpoints_need_authentication(anonymous):
    for path in ("/v1/signature/create", "/v1/signature/validate", "/v1/signature/secret"):
        response = anonymous.post(path, {"queryString": "a=1"}, format="json")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"


def test_the_seed_validate_example_with_a_forged_signature_is_invalid(integrator):
    response = validate(integrator, "key1=value1&key2=value2...keyN=valueN&reSignature=THE_SIGNATURE")
    assert response.status_code == 200
    assert response.json() == {"result": "InvalidSignature"}


def test_a_tampered_value_is_an_invalid_signature(integrator):
    signed = create(integrator, {"queryString": "userId=42&plan=basic"}).json()["signedQueryString"]
    assert validate(integrator, signed.replace("plan=basic", "plan=gold")).json() == {"result": "InvalidSignature"}
    assert validate(integrator, signed.replace("userId=42&", "")).json() == {"result": "InvalidSignature"}
    assert validate(integrator, signed + "&extra=1").status_code == 400  # reSignature no longer last


def test_reordered_and_re_encoded_parameters_stay_valid(integrator):
    body = create(integrator, {"queryString": "name=J%C3%B6rg+M&city=K%C3%B6ln"}).json()
    rest = body["signedQueryString"].rsplit("&reSignature=", 1)[0].split("&")
    reordered = "&".join(reversed(rest)).replace("J%C3%B6rg+M", "Jörg%20M").replace("%C3%B6", "%c3%b6")
    assert validate(integrator, f"{reordered}&reSignature={body['signature']}").json() == {"result": "Valid"}


def test_a_link_is_valid_at_its_expiration_second_and_expired_just_after(integrator, frozen):
    signed = create(integrator, {"queryString": "a=1", "securitySettings": {"expirationInSeconds": 60}}).json()
    frozen.shift(60)
    assert validate(integrator, signed["signedQueryString"]).json() == {"result": "Valid"}
    frozen.shift(0.001)
    assert validate(integrator, signed["signedQueryString"]).json() == {"result": "Expired"}


def test_validate_never_consumes_a_nonce(integrator):
    signed = create(integrator, {"queryString": "a=1", "securitySettings": {"enableNonce": True}}).json()
    for _ in range(3):
        assert validate(integrator, signed["signedQueryString"]).json() == {"result": "Valid"}
    assert not UsedNonce.objects.exists()


def test_a_consumed_nonce_is_reported_as_already_used(integrator, other_integrator):
    signed = create(integrator, {"queryString": "a=1", "securitySettings": {"enableNonce": True}}).json()
    nonce_consume(account=other_integrator.account, nonce=signed["nonce"], expires_at=NOW)
    assert validate(integrator, signed["signedQueryString"]).json() == {"result": "Valid"}
    nonce_consume(account=integrator.account, nonce=signed["nonce"], expires_at=NOW)
    assert validate(integrator, signed["signedQueryString"]).json() == {"result": "NonceAlreadyUsed"}


def test_checks_run_in_the_order_signature_expiration_nonce(integrator, frozen):
    signed = create(
        integrator, {"queryString": "a=1", "securitySettings": {"enableNonce": True, "expirationInSeconds": 5}}
    ).json()
    nonce_consume(account=integrator.account, nonce=signed["nonce"], expires_at=NOW)
    assert validate(integrator, signed["signedQueryString"]).json() == {"result": "NonceAlreadyUsed"}
    frozen.shift(6)
    assert validate(integrator, signed["signedQueryString"]).json() == {"result": "Expired"}
    tampered = signed["signedQueryString"].replace("a=1", "a=2")
    assert validate(integrator, tampered).json() == {"result": "InvalidSignature"}


def test_locally_signed_links_with_malformed_expiration_or_nonce_are_named(integrator, frozen):
    secret = secret_of(integrator)
    future = str(NOW_TS + 60)
    cases = [
        ("InvalidExpiration", [("a", "1"), ("reExpiration", "soon")]),
        ("InvalidExpiration", [("a", "1"), ("reExpiration", "999999999999")]),  # past the year 9999
        ("InvalidNonce", [("a", "1"), ("reExpiration", future), ("reNonce", "not-a-guid")]),
        ("Valid", [("a", "1"), ("reExpiration", future), ("reNonce", "0" * 32)]),
    ]
    for outcome, params in cases:
        assert validate(integrator, locally_signed(secret, params)).json() == {"result": outcome}
    nonce_only = [("a", "1"), ("reNonce", "0" * 32)]
    assert validate(integrator, locally_signed(secret, nonce_only)).json() == {"result": "InvalidNonce"}


def test_a_signature_from_another_account_is_invalid(integrator, other_integrator):
    signed = create(integrator, {"queryString": "a=1"}).json()["signedQueryString"]
    assert validate(other_integrator, signed).json() == {"result": "InvalidSignature"}
    assert secret_of(integrator) != secret_of(other_integrator)


@pytest.mark.parametrize("query", ["a=\ud800", "\udcff=1", "a=%ED%A0%80"])
def test_text_that_is_not_unicode_scalar_values_is_a_400_not_a_500(integrator, query):
    for path in ("/v1/signature/create", "/v1/signature/validate"):
        response = integrator.client.post(path, json.dumps({"queryString": query}), content_type="application/json")
        assert response.status_code == 400
        error = response.json()["error"]
        # A lone surrogate escape is refused as JSON that is not text (docs/api.md); the percent-encoded one
        # decodes later, in the field.
        assert error["code"] == "malformed_json" if "%" not in query else error["fields"]["queryString"]


def test_what_create_signs_fits_what_a_link_and_validate_accept(integrator):
    long = "a=" + "x" * 7800  # room for reExpiration, reNonce and reSignature within 8000
    created = create(integrator, {"queryString": long, "securitySettings": {"enableNonce": True}})
    assert created.status_code == 200, created.json()
    signed = created.json()["signedQueryString"]
    assert len(signed) <= 8000
    assert validate(integrator, signed).json() == {"result": "Valid"}
    # One that would no longer fit once signed is refused here, not by the link that cannot be opened.
    too_long = create(integrator, {"queryString": "a=" + "x" * 7950})
    assert too_long.status_code == 400 and "8000" in too_long.json()["error"]["fields"]["queryString"][0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"queryString": "a=1", "securitySetings": {"enableNonce": True}}, "securitySetings"),
        ({"queryString": "a=1", "securitySettings": {"expirationInSecond": 60}}, "securitySettings.expirationInSecond"),
    ],
)
def test_a_misspelt_field_is_refused_not_ignored(integrator, body, field):
    """A typo would otherwise sign a link with the defaults (one day, no nonce) without a word."""
    response = create(integrator, body)
    assert response.status_code == 400 and field in response.json()["error"]["fields"], response.json()
    assert validate(integrator, "a=1").status_code == 200  # validate's own body is checked the same way
    assert (
        integrator.client.post(
            "/v1/signature/validate", {"queryString": "a=1", "query": "x"}, format="json"
        ).status_code
        == 400
    )
