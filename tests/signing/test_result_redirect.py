"""Signed result redirects to passedUrl / failedUrl, and the redirect-origin rules."""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.test import override_settings

from apps.core.errors import ApplicationError
from apps.sessions.models import Session
from apps.sessions.result_redirect import result_redirect_url
from apps.sessions.services import session_create
from apps.signing.redirects import redirect_override_check, redirect_url_problem

from .helpers import NOW, verification_create

pytestmark = pytest.mark.django_db

FACE_ID = uuid.UUID("0f8fad5b-d9cb-469f-a165-70867728950e")


def finished_session(integrator, *, passed: bool, custom=None, external_id="corr-1", **blocks) -> Session:
    vid = verification_create(integrator, **blocks)
    session = session_create(
        account=integrator.account,
        body={},
        verification_id=vid,
        custom_input_parameters=custom if custom is not None else {"userId": "user 123"},
        external_id=external_id,
    )
    Session.objects.filter(pk=session.pk).update(
        status=Session.Status.COMPLETED,
        verification_result="Pass" if passed else "Fail",
        verification_failed_reasons=[] if passed else ["livenessFailed", "multipleFaces"],
        liveness_result="Pass" if passed else "Fail",
        age_result="Pass",
        estimated_age=31.9,
        gender_result="Pass",
        estimated_gender="Female",
        face_recognition_result="NotExecuted",
        face_id=str(FACE_ID) if passed else None,
        total_face_count=1 if passed else 2,
    )
    session.refresh_from_db()
    return session


def validate(integrator, query_string: str) -> str:
    response = integrator.client.post("/v1/signature/validate", {"queryString": query_string}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()["result"]


def test_a_passed_session_goes_to_passed_url_with_exactly_the_included_parameters(integrator, frozen):
    session = finished_session(integrator, passed=True)
    url = result_redirect_url(session=session)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == "https://example.com"
    params = parse_qsl(parts.query, keep_blank_values=True)
    assert [name for name, _ in params] == [
        "result",
        "userId",
        "reVerificationSessionId",
        "reVerificationResult",
        "reLivenessResult",
        "reFaceRecognitionResult",
        "reAgeVerificationResult",
        "reFaceId",
        "reAge",
        "reGender",
        "reCorrelationId",
        "reTotalFaceCount",
        "reExpiration",
        "reNonce",
        "reSignature",
    ]
    values = dict(params)
    assert values["result"] == "passed" and values["userId"] == "user 123"
    assert values["reVerificationSessionId"] == str(session.id)
    assert values["reVerificationResult"] == "passed"
    assert values["reLivenessResult"] == "passed"
    assert values["reFaceRecognitionResult"] == "not_executed"
    assert values["reFaceId"] == FACE_ID.hex
    assert values["reAge"] == "31"
    assert values["reGender"] == "female"
    assert values["reCorrelationId"] == "corr-1"
    assert values["reTotalFaceCount"] == "1"
    assert values["reExpiration"] == str(int(NOW.timestamp()) + 3600)
    assert re.fullmatch(r"[0-9a-f]{32}", values["reNonce"])
    assert re.fullmatch(r"[0-9a-f]{64}", values["reSignature"])
    assert validate(integrator, parts.query) == "Valid"


def test_a_failed_session_goes_to_failed_url_with_its_reasons(integrator):
    url = result_redirect_url(session=finished_session(integrator, passed=False))
    parts = urlsplit(url)
    values = dict(parse_qsl(parts.query))
    assert values["result"] == "failed"
    assert values["reVerificationResult"] == "failed" and values["reLivenessResult"] == "failed"
    assert values["reFailedReason"] == "livenessFailed,multipleFaces"
    assert "reFaceId" not in values  # no face, no empty parameter
    assert validate(integrator, parts.query) == "Valid"


def test_tampering_with_any_result_parameter_is_detected(integrator):
    query = urlsplit(result_redirect_url(session=finished_session(integrator, passed=False))).query
    assert validate(integrator, query.replace("reVerificationResult=failed", "reVerificationResult=passed")) == (
        "InvalidSignature"
    )
    assert validate(integrator, query.replace("result=failed", "result=passed", 1)) == "InvalidSignature"


def test_the_result_signature_expires(integrator, frozen):
    query = urlsplit(result_redirect_url(session=finished_session(integrator, passed=True))).query
    frozen.shift(3601)
    assert validate(integrator, query) == "Expired"


def test_a_result_signature_cannot_open_a_hosted_link(integrator, client):
    session = finished_session(integrator, passed=True, custom={})
    query = urlsplit(result_redirect_url(session=session)).query
    assert client.get(f"/v/{session.verification_id}?{query}").status_code == 403


def test_without_include_signature_there_is_no_signature_but_nonce_and_expiration_remain(integrator):
    session = finished_session(integrator, passed=True, resultParameterConfig={"includeSignature": False})
    values = dict(parse_qsl(urlsplit(result_redirect_url(session=session)).query))
    assert "reSignature" not in values
    assert {"reNonce", "reExpiration"} <= set(values)


def test_only_flagged_parameters_appear(integrator):
    flags = dict.fromkeys(
        [
            "includeSessionId",
            "includeFaceId",
            "includeAge",
            "includeGender",
            "includeVerificationResult",
            "includeCustomInputParameters",
            "includeLivenessCheckResult",
            "includeAgeVerificationResult",
            "includeFaceRecognitionResult",
            "includeCorrelationId",
            "includeTotalFaceCount",
            "includeFailedReason",
        ],
        False,
    )
    session = finished_session(integrator, passed=True, resultParameterConfig=flags)
    query = urlsplit(result_redirect_url(session=session)).query
    assert [name for name, _ in parse_qsl(query)] == ["result", "reExpiration", "reNonce", "reSignature"]


def test_the_target_keeps_its_own_parameters_and_path_and_fragment(integrator):
    session = finished_session(
        integrator,
        passed=True,
        custom={"result": "spoofed", "plan": "a&b=c", "": "nameless", "reAge": "99"},
        redirectConfig={"passedUrl": "https://shop.example/done/?result=passed&x=%2B1#top"},
    )
    url = result_redirect_url(session=session)
    parts = urlsplit(url)
    assert parts.path == "/done/" and parts.fragment == "top"
    assert parts.query.startswith("result=passed&x=%2B1&plan=a%26b%3Dc&")
    assert validate(integrator, parts.query) == "Valid"


def test_a_target_parameter_that_starts_with_a_question_mark_is_kept_and_signed_as_written(integrator):
    """Read alone, "?reNonce=x" would name the reserved reNonce; in the whole query its name is "?reNonce"."""
    session = finished_session(
        integrator, passed=True, redirectConfig={"passedUrl": "https://shop.example/cb?a=1&?reNonce=x"}
    )
    query = urlsplit(result_redirect_url(session=session)).query
    assert query.startswith("a=1&?reNonce=x&")
    assert validate(integrator, query) == "Valid"


def test_no_redirect_url_means_no_redirect(integrator):
    session = finished_session(integrator, passed=False)
    session.config = {**session.config, "redirectConfig": {"passedUrl": "https://example.com/"}}
    assert result_redirect_url(session=session) is None


@override_settings(ALLOW_HTTP_OUTBOUND=False)
@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("https://shop.example/ok?a=1", None),
        ("https://SHOP.example:443/ok", None),
        ("https://shop.example:8443/ok", "not one of the account's allowed"),
        ("https://evil.example/ok", "not one of the account's allowed"),
        ("https://shop.example.evil.example/", "not one of the account's allowed"),
        ("http://shop.example/ok", "https"),
        ("https://user@shop.example/", "user name"),
        ("https://shop.example\\@evil.example/", "backslashes"),
        ("javascript:alert(1)", "absolute http(s)"),
        ("//shop.example/ok", "absolute http(s)"),
        ("/relative", "absolute http(s)"),
        ("https://shop.example/?a=1&a=2", "ambiguous"),
        ("https://shop.example/?reVerificationResult=passed", "reserved"),
        (42, "absolute http(s)"),
    ],
)
def test_redirect_overrides_need_an_allowed_origin(integrator, url, complaint):
    integrator.account.allowed_redirect_origins = ["https://shop.example"]
    if complaint is None:
        redirect_override_check(account=integrator.account, url=url, field="redirectConfig.passedUrl")
        return
    with pytest.raises(ApplicationError) as caught:
        redirect_override_check(account=integrator.account, url=url, field="redirectConfig.passedUrl")
    assert caught.value.status == 400
    assert complaint in caught.value.fields["redirectConfig.passedUrl"][0]


def test_an_account_without_allowed_origins_allows_no_overrides(integrator):
    with pytest.raises(ApplicationError):
        redirect_override_check(account=integrator.account, url="https://example.com/", field="rePassedUrl")
    assert redirect_url_problem("https://example.com/") is None


def test_integrators_manage_their_allowed_origins_through_the_api(integrator, other_integrator):
    url = "/v1/signature/allowed-redirect-origins"
    body = {"allowedRedirectOrigins": ["https://Shop.Example:443/", "https://shop.example", "https://app.example:8443"]}
    response = integrator.client.put(url, body, format="json")
    assert response.status_code == 200
    assert response.json() == {"allowedRedirectOrigins": ["https://shop.example", "https://app.example:8443"]}
    assert integrator.client.get(url).json() == response.json()
    assert other_integrator.client.get(url).json() == {"allowedRedirectOrigins": []}
    integrator.account.refresh_from_db()
    redirect_override_check(account=integrator.account, url="https://app.example:8443/x", field="f")


@override_settings(ALLOW_HTTP_OUTBOUND=False)
@pytest.mark.parametrize(
    "origins",
    [
        ["https://shop.example/path"],
        ["https://shop.example?x=1"],
        ["https://user@shop.example"],
        ["http://shop.example"],
        ["shop.example"],
        [5],
        "https://shop.example",
        ["https://a.example"] * 51,
    ],
)
def test_anything_but_a_list_of_bare_https_origins_is_a_400(integrator, origins):
    response = integrator.client.put(
        "/v1/signature/allowed-redirect-origins", {"allowedRedirectOrigins": origins}, format="json"
    )
    assert response.status_code == 400
    assert all(field.startswith("allowedRedirectOrigins") for field in response.json()["error"]["fields"])
    integrator.account.refresh_from_db()
    assert integrator.account.allowed_redirect_origins == []


def test_create_session_refuses_a_redirect_override_outside_the_allowed_origins(integrator):
    integrator.account.allowed_redirect_origins = ["https://shop.example"]
    integrator.account.save()
    vid = verification_create(integrator, sessionOverrideConfig={"allowRedirectOverrides": True})
    body = {"verificationId": vid, "redirectConfig": {"passedUrl": "https://evil.example/ok"}}
    refused = integrator.client.post("/v1/verification/create-session", body, format="json")
    assert refused.status_code == 400
    assert "redirectConfig.passedUrl" in refused.json()["error"]["fields"]
    body["redirectConfig"]["passedUrl"] = "https://shop.example/ok"
    assert integrator.client.post("/v1/verification/create-session", body, format="json").status_code == 200


def test_a_session_without_a_stored_config_may_redirect_only_to_an_allowed_origin(integrator):
    body = {"verifierConfigs": {}, "redirectConfig": {"passedUrl": "https://evil.example/ok"}}
    refused = integrator.client.post("/v1/verification/create-session", body, format="json")
    assert refused.status_code == 400
    assert "not one of the account's allowed" in refused.json()["error"]["fields"]["redirectConfig.passedUrl"][0]
    assert not Session.objects.exists()
    integrator.account.allowed_redirect_origins = ["https://evil.example"]
    integrator.account.save()
    assert integrator.client.post("/v1/verification/create-session", body, format="json").status_code == 200


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("https://user:pw@shop.example/ok", "user name or password"),
        ("https://shop.example/ok?reAge=5", "reserved parameter"),
        ("https://shop.example/ok?a=1&a=2", "ambiguous"),
    ],
)
def test_a_stored_redirect_url_the_result_could_not_carry_is_a_400_naming_the_field(integrator, url, complaint):
    body = {"verificationConfig": {"verifierConfigs": {}, "redirectConfig": {"failedUrl": url}}}
    response = integrator.client.post("/v1/verification/create", body, format="json")
    assert response.status_code == 400, response.json()
    [message] = response.json()["error"]["fields"]["verificationConfig.redirectConfig.failedUrl"]
    assert complaint in message


def test_a_result_redirect_longer_than_a_link_still_validates(integrator):
    """50 custom parameters of 200 characters, echoed: a redirect query of about 10,000 characters."""
    custom = {f"k{i}": "v" * 200 for i in range(50)}
    flags = {"includeSignature": True, "includeCustomInputParameters": True}
    session = finished_session(integrator, passed=True, custom=custom, resultParameterConfig=flags)
    query = urlsplit(result_redirect_url(session=session)).query
    assert len(query) > 8000
    response = integrator.client.post("/v1/signature/validate", {"queryString": query}, format="json")
    assert response.status_code == 200 and response.json() == {"result": "Valid"}, response.json()
