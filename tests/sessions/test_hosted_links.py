"""Hosted verification links: /v/<verificationId>?... opens exactly the session the link allows."""

from __future__ import annotations

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client, override_settings

from apps.sessions.models import Session
from apps.signing.models import UsedNonce
from tests.signing.helpers import NOW, locally_signed, secret_of, signed_link, verification_config, verification_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _unsigned_openings_unlimited(settings) -> None:
    settings.HOSTED_LINK_UNSIGNED_PER_HOUR = 10_000  # all tests share one address; one test sets its own limit


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def browser() -> Client:
    return Client()


def open_link(browser, verification_id, query):
    return browser.get(f"/v/{verification_id}?{query}")


def only_session() -> Session:
    (session,) = Session.objects.all()
    return session


def test_a_signed_link_creates_a_session_and_redirects_to_its_page(integrator, browser):
    vid = verification_create(integrator)
    response = open_link(browser, vid, signed_link(integrator, "userId=user123&campaignId=camp456&reExternalId=u-1"))
    assert response.status_code == 302
    session = only_session()
    assert response["Location"] == session.session_url
    assert response["Cache-Control"] == "no-store" and response["Referrer-Policy"] == "no-referrer"
    assert session.account == integrator.account and str(session.verification_id) == vid
    assert session.custom_input_parameters == {"userId": "user123", "campaignId": "camp456"}
    assert session.external_id == "u-1"


def test_custom_parameters_are_kept_whatever_the_flag_and_get_session_result_returns_them(integrator, browser):
    """001: get-session-result returns everything "regardless of the result parameter configuration"; the flag
    decides only what the result redirect echoes (tests/signing/test_result_redirect.py)."""
    vid = verification_create(integrator, resultParameterConfig={"includeCustomInputParameters": False})
    link = signed_link(integrator, "userId=user123&campaignId=camp456")
    assert open_link(browser, vid, link).status_code == 302
    session = only_session()
    assert session.custom_input_parameters == {"userId": "user123", "campaignId": "camp456"}
    result = integrator.client.get("/v1/verification/get-session-result", {"verificationSessionId": str(session.id)})
    assert result.json()["customInputParameters"] == {"userId": "user123", "campaignId": "camp456"}


def test_a_link_that_turns_custom_parameters_on_keeps_them(integrator, browser):
    """With overrides allowed, reIncludeCustomInputParameters=true turned the session's flag on but the
    parameters themselves were dropped (decided from the stored config), so no redirect, result or webhook
    carried them."""
    vid = verification_create(
        integrator,
        resultParameterConfig={"includeCustomInputParameters": False},
        sessionOverrideConfig={"allowResultParameterOverrides": True},
    )
    link = signed_link(integrator, "userId=user123&reIncludeCustomInputParameters=true")
    assert open_link(browser, vid, link).status_code == 302
    session = only_session()
    assert session.typed_config.result_parameters.include_custom_input_parameters is True
    assert session.custom_input_parameters == {"userId": "user123"}


@pytest.mark.parametrize(
    "tamper",
    [
        lambda q: q.rsplit("&reSignature=", 1)[0],  # unsigned
        lambda q: q.replace("userId=user123", "userId=admin"),
        lambda q: q[:-1] + ("0" if q[-1] != "0" else "1"),
        lambda q: q + "&more=1",  # reSignature no longer last: ambiguous, 400
    ],
)
def test_a_forced_signature_that_is_missing_or_wrong_creates_nothing(integrator, browser, tamper):
    vid = verification_create(integrator)
    response = open_link(browser, vid, tamper(signed_link(integrator, "userId=user123")))
    assert response.status_code in (400, 403)
    assert b"not valid" in response.content or b"malformed" in response.content
    assert response["Content-Type"].startswith("text/html")
    assert not Session.objects.exists()


def test_a_link_signed_by_another_account_or_for_results_is_refused(integrator, other_integrator, browser):
    vid = verification_create(integrator)
    assert open_link(browser, vid, signed_link(other_integrator, "userId=1")).status_code == 403
    result_signed = locally_signed(secret_of(integrator), [("userId", "1")], purpose="result")
    assert open_link(browser, vid, result_signed).status_code == 403
    assert not Session.objects.exists()


def test_an_expired_link_is_gone_and_creates_nothing(integrator, browser, frozen):
    vid = verification_create(integrator)
    query = signed_link(integrator, "userId=1", expirationInSeconds=60)
    frozen.shift(61)
    response = open_link(browser, vid, query)
    assert response.status_code == 410
    assert b"expired" in response.content
    assert not Session.objects.exists()


def test_a_nonce_starts_one_session_and_the_link_is_gone_afterwards(integrator, browser):
    vid = verification_create(integrator)
    query = signed_link(integrator, "userId=1", enableNonce=True)
    assert open_link(browser, vid, query).status_code == 302
    again = open_link(browser, vid, query)
    assert again.status_code == 410
    assert b"already been used" in again.content
    session = only_session()
    assert UsedNonce.objects.get().session_id == session.id
    validate = integrator.client.post("/v1/signature/validate", {"queryString": query}, format="json")
    assert validate.json() == {"result": "NonceAlreadyUsed"}


def test_without_forced_signatures_an_unsigned_link_opens_a_session(integrator, browser):
    vid = verification_create(integrator, securityConfig={"forceSignedInput": False})
    assert open_link(browser, vid, "userId=1&region=eu").status_code == 302
    assert only_session().custom_input_parameters == {"userId": "1", "region": "eu"}


def test_an_unforced_link_that_carries_a_bad_signature_is_still_refused(integrator, browser):
    vid = verification_create(integrator, securityConfig={"forceSignedInput": False})
    assert open_link(browser, vid, "userId=1&reSignature=" + "0" * 64).status_code == 403
    assert not Session.objects.exists()


def test_verifier_overrides_apply_where_the_config_allows_them(integrator, browser):
    vid = verification_create(integrator)
    query = signed_link(integrator, "reDisableLivenessVerifier=true&reDisableAgeVerifier=false")
    assert open_link(browser, vid, query).status_code == 302
    verifiers = only_session().config["verifierConfigs"]
    assert verifiers["liveness"]["type"] == "Disabled"
    assert verifiers["age"]["type"] == "CalculationOnly"
    assert only_session().custom_input_parameters == {}


def test_overrides_the_config_does_not_allow_are_ignored(integrator, browser):
    vid = verification_create(integrator, sessionOverrideConfig={"allowVerifierOverrides": False})
    query = signed_link(
        integrator, "reDisableLivenessVerifier=true&reIncludeAge=false&rePassedUrl=https%3A%2F%2Fevil.example%2F"
    )
    assert open_link(browser, vid, query).status_code == 302
    config = only_session().config
    assert config["verifierConfigs"]["liveness"]["type"] == "Verification"
    assert config["resultParameterConfig"]["includeAge"] is True
    assert config["redirectConfig"]["passedUrl"] == "https://example.com?result=passed"


def test_result_parameter_overrides_merge_into_the_stored_flags(integrator, browser):
    vid = verification_create(integrator, sessionOverrideConfig={"allowResultParameterOverrides": True})
    assert open_link(browser, vid, signed_link(integrator, "reIncludeAge=false")).status_code == 302
    flags = only_session().config["resultParameterConfig"]
    assert flags["includeAge"] is False and flags["includeSignature"] is True


def test_a_malformed_allowed_override_is_refused(integrator, browser):
    vid = verification_create(integrator)
    response = open_link(browser, vid, signed_link(integrator, "reDisableLivenessVerifier=yes"))
    assert response.status_code == 400
    assert b"reDisableLivenessVerifier must be true or false" in response.content
    assert not Session.objects.exists()


def test_redirect_overrides_must_use_an_allowed_origin(integrator, browser):
    integrator.account.allowed_redirect_origins = ["https://shop.example"]
    integrator.account.save()
    vid = verification_create(integrator, sessionOverrideConfig={"allowRedirectOverrides": True})
    refused = open_link(browser, vid, signed_link(integrator, "rePassedUrl=https%3A%2F%2Fevil.example%2Fok"))
    assert refused.status_code == 400
    assert b"rePassedUrl: The origin https://evil.example is not one of the account" in refused.content
    assert not Session.objects.exists()
    query = signed_link(integrator, "rePassedUrl=https%3A%2F%2Fshop.example%3A443%2Fdone%3Fa%3D1")
    assert open_link(browser, vid, query).status_code == 302
    redirect = only_session().config["redirectConfig"]
    assert redirect == {
        "passedUrl": "https://shop.example:443/done?a=1",
        "failedUrl": "https://example.com?result=failed",
    }


def test_a_redirect_override_on_a_config_with_only_one_redirect_url_keeps_the_other_unset(integrator, browser):
    integrator.account.allowed_redirect_origins = ["https://shop.example"]
    integrator.account.save()
    config = verification_config(sessionOverrideConfig={"allowRedirectOverrides": True})
    config["redirectConfig"] = {"passedUrl": "https://shop.example/passed"}  # no failedUrl
    response = integrator.client.post(
        "/v1/verification/create", {"name": "One URL", "verificationConfig": config}, format="json"
    )
    assert response.status_code == 200, response.json()
    query = signed_link(integrator, "rePassedUrl=https%3A%2F%2Fshop.example%2Fother")
    assert open_link(browser, response.json()["verificationId"], query).status_code == 302
    assert only_session().config["redirectConfig"] == {"passedUrl": "https://shop.example/other", "failedUrl": None}


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/v/00000000-0000-0000-0000-000000000000?userId=1", 404),
        ("/v/not-a-uuid?userId=1", 404),
    ],
)
def test_unknown_verifications_are_404_pages(integrator, browser, path, status):
    assert browser.get(path).status_code == status
    assert not Session.objects.exists()


def test_another_accounts_verification_does_not_accept_your_signature(integrator, other_integrator, browser):
    vid = verification_create(other_integrator)
    assert open_link(browser, vid, signed_link(integrator, "userId=1")).status_code == 403


@pytest.mark.parametrize(
    "query",
    [
        "userId=1&userId=2",
        "userId=%zz",
        "reExternalId=" + "x" * 201,
        "reExpiration=999999999999&reNonce=" + "0" * 32,  # past the year 9999: no datetime holds it
    ],
)
def test_ambiguous_or_oversized_links_are_400_pages(integrator, browser, query):
    vid = verification_create(integrator, securityConfig={"forceSignedInput": False})
    response = open_link(browser, vid, query)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert not Session.objects.exists()


def test_a_head_request_from_a_link_scanner_consumes_nothing(integrator, browser):
    vid = verification_create(integrator)
    query = signed_link(integrator, "userId=1", enableNonce=True)
    assert browser.head(f"/v/{vid}?{query}").status_code == 200
    assert not Session.objects.exists() and not UsedNonce.objects.exists()
    assert browser.post(f"/v/{vid}?{query}").status_code == 405
    assert open_link(browser, vid, query).status_code == 302


def test_match_modes_need_an_external_id_before_the_capture_starts(integrator, browser):
    recognition = {"faceRecognition": {"type": "UniqueMatchVerification", "collectionId": "members"}}
    vid = verification_create(integrator, verifierConfigs=recognition)
    refused = open_link(browser, vid, signed_link(integrator, "userId=1"))
    assert refused.status_code == 400
    assert b"reExternalId is required for UniqueMatchVerification" in refused.content
    assert not Session.objects.exists()
    assert open_link(browser, vid, signed_link(integrator, "reDisableFaceRecognitionVerifier=true")).status_code == 302
    assert open_link(browser, vid, signed_link(integrator, "reExternalId=member-7")).status_code == 302
    assert sorted(Session.objects.values_list("external_id", flat=True), key=str) == [None, "member-7"]


def test_raw_unicode_and_encoded_spaces_survive_the_trip_through_the_browser(integrator, browser):
    vid = verification_create(integrator)
    query = signed_link(integrator, "city=Köln&name=Jörg+M&note=a%26b%3Dc")
    assert open_link(browser, vid, query).status_code == 302
    assert only_session().custom_input_parameters == {"city": "Köln", "name": "Jörg M", "note": "a&b=c"}


def test_under_asgi_the_raw_query_bytes_are_read_as_utf8():
    import io

    from django.core.handlers.asgi import ASGIRequest

    from apps.sessions.hosted_link_page import _raw_query_string

    scope = {"type": "http", "method": "GET", "path": "/v/x", "headers": [], "query_string": "city=Köln".encode()}
    assert _raw_query_string(ASGIRequest(scope, io.BytesIO())) == "city=Köln"


def test_raw_bytes_that_are_not_utf8_get_a_400_page(integrator, browser):
    vid = verification_create(integrator, securityConfig={"forceSignedInput": False})
    response = browser.get(f"/v/{vid}", QUERY_STRING=b"city=K\xf6ln".decode("latin-1"))
    assert response.status_code == 400
    assert b"not UTF-8" in response.content
    assert not Session.objects.exists()


@override_settings(HOSTED_LINK_UNSIGNED_PER_HOUR=2)
def test_unsigned_openings_are_rate_limited_per_address_apart_from_signed_ones(integrator, browser, frozen):
    cache.clear()
    vid = verification_create(integrator, securityConfig={"forceSignedInput": False})
    assert [open_link(browser, vid, "userId=1").status_code for _ in range(2)] == [302, 302]
    limited = open_link(browser, vid, "userId=1")
    assert limited.status_code == 429 and 0 < int(limited["Retry-After"]) <= 3600
    assert b"Too many attempts" in limited.content
    assert open_link(browser, vid, signed_link(integrator, "userId=1")).status_code == 302
    assert browser.get(f"/v/{vid}?userId=1", REMOTE_ADDR="10.0.0.2").status_code == 302
    frozen.shift(3600)
    assert open_link(browser, vid, "userId=1").status_code == 302
    assert Session.objects.count() == 5


@override_settings(HOSTED_LINK_SIGNED_PER_HOUR=2)
def test_signed_openings_have_a_per_address_limit_of_their_own(integrator, browser, frozen):
    cache.clear()
    vid = verification_create(integrator)
    link = signed_link(integrator, "userId=1")  # no nonce: the same link opens again until it expires
    assert [open_link(browser, vid, link).status_code for _ in range(2)] == [302, 302]
    limited = open_link(browser, vid, link)
    assert limited.status_code == 429 and 0 < int(limited["Retry-After"]) <= 3600
    assert browser.get(f"/v/{vid}?{link}", REMOTE_ADDR="10.0.0.2").status_code == 302
    assert Session.objects.count() == 3
