"""A table of bad inputs, each with the exact error an integrator gets back."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from apps.verifications.models import VerificationConfig
from apps.webhooks.ssrf import check_url_on_save

from .conftest import seed_body

pytestmark = pytest.mark.django_db

DROP = object()
VC = "verificationConfig"
VERIFIERS = f"{VC}.verifierConfigs"
INVALID = (400, "invalid")


def edited(changes: dict[str, Any]) -> dict[str, Any]:
    """The seed's create body with ``{"dotted.path": new value or DROP}`` applied."""
    body = copy.deepcopy(seed_body("create_request"))
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        node = body
        for key in parents:
            node = node[key]
        if value is DROP:
            del node[leaf]
        else:
            node[leaf] = value
    return body


# (id, body: dict or raw JSON text, expected status, expected code, expected error.fields keys -> message or None)
BAD_BODIES: list[tuple[str, Any, int, str, dict[str, str | None]]] = [
    ("malformed JSON", '{"name": "x",', 400, "malformed_json", {}),
    ("trailing garbage after JSON", '{"name": "x"} {}', 400, "malformed_json", {}),
    ("NaN is not JSON", '{"name": NaN}', 400, "malformed_json", {}),
    ("body is a list", "[1, 2]", *INVALID, {"body": "Invalid data. Expected a dictionary, but got list."}),
    ("body is a string", '"hello"', *INVALID, {"body": "Invalid data. Expected a dictionary, but got str."}),
    ("empty object", "{}", *INVALID, {"name": "This field is required.", VC: "This field is required."}),
    ("name missing", edited({"name": DROP}), *INVALID, {"name": "This field is required."}),
    ("name is a number", edited({"name": 42}), *INVALID, {"name": "Must be a JSON string."}),
    ("name is blank", edited({"name": "   "}), *INVALID, {"name": "This field may not be blank."}),
    ("name too long", edited({"name": "n" * 201}), *INVALID, {"name": None}),
    ("name is null", edited({"name": None}), *INVALID, {"name": "This field may not be null."}),
    ("unknown top-level field", edited({"nmae": "x"}), *INVALID, {"nmae": "Unknown field."}),
    ("verificationConfig is a list", edited({VC: []}), *INVALID, {VC: None}),
    ("verifierConfigs missing", edited({f"{VC}.verifierConfigs": DROP}), *INVALID, {VERIFIERS: None}),
    ("unknown block", edited({f"{VC}.webhookConfg": {}}), *INVALID, {f"{VC}.webhookConfg": "Unknown field."}),
    (
        "typo in a result flag",
        edited({f"{VC}.resultParameterConfig.includeAgee": True}),
        *INVALID,
        {f"{VC}.resultParameterConfig.includeAgee": "Unknown field."},
    ),
    (
        "string 'true' is not a boolean",
        edited({f"{VC}.resultParameterConfig.includeAge": "true"}),
        *INVALID,
        {f"{VC}.resultParameterConfig.includeAge": "Must be a JSON boolean (true or false)."},
    ),
    (
        "1 is not a boolean",
        edited({f"{VC}.securityConfig.forceSignedInput": 1}),
        *INVALID,
        {f"{VC}.securityConfig.forceSignedInput": "Must be a JSON boolean (true or false)."},
    ),
    (
        "null flag",
        edited({f"{VC}.sessionOverrideConfig.allowRedirectOverrides": None}),
        *INVALID,
        {f"{VC}.sessionOverrideConfig.allowRedirectOverrides": "This field may not be null."},
    ),
    (
        "unknown liveness type",
        edited({f"{VERIFIERS}.liveness.type": "Strict"}),
        *INVALID,
        {f"{VERIFIERS}.liveness.type": '"Strict" is not one of: Disabled, Verification.'},
    ),
    (
        "enum values are case-sensitive",
        edited({f"{VERIFIERS}.liveness.challengeType": "balanced"}),
        *INVALID,
        {f"{VERIFIERS}.liveness.challengeType": '"balanced" is not one of: Passive, Balanced, Advanced.'},
    ),
    (
        "verifier type missing",
        edited({f"{VERIFIERS}.gender": {}}),
        *INVALID,
        {f"{VERIFIERS}.gender.type": "This field is required."},
    ),
    (
        "gender cannot be verified",
        edited({f"{VERIFIERS}.gender.type": "ThresholdVerification"}),
        *INVALID,
        {f"{VERIFIERS}.gender.type": '"ThresholdVerification" is not one of: Disabled, CalculationOnly.'},
    ),
    (
        "unknown verifier",
        edited({f"{VERIFIERS}.emotion": {"type": "CalculationOnly"}}),
        *INVALID,
        {f"{VERIFIERS}.emotion": "Unknown field."},
    ),
    (
        "face recognition without collectionId",
        edited({f"{VERIFIERS}.faceRecognition.collectionId": DROP}),
        *INVALID,
        {
            f"{VERIFIERS}.faceRecognition.collectionId": (
                "This field is required unless type is Disabled, Identify or Recovery."
            )
        },
    ),
    (
        "collectionId is a number",
        edited({f"{VERIFIERS}.faceRecognition.collectionId": 7}),
        *INVALID,
        {f"{VERIFIERS}.faceRecognition.collectionId": "Must be a JSON string."},
    ),
    (
        "unknown face recognition type",
        edited({f"{VERIFIERS}.faceRecognition.type": "Identity"}),
        *INVALID,
        {f"{VERIFIERS}.faceRecognition.type": None},
    ),
    (
        "age threshold verification without threshold",
        edited({f"{VERIFIERS}.age": {"type": "ThresholdVerification", "direction": "Above"}}),
        *INVALID,
        {f"{VERIFIERS}.age.threshold": "This field is required when type is ThresholdVerification."},
    ),
    (
        "age threshold as a string",
        edited({f"{VERIFIERS}.age": {"type": "ThresholdVerification", "threshold": "18"}}),
        *INVALID,
        {f"{VERIFIERS}.age.threshold": "Must be a JSON integer."},
    ),
    (
        "age threshold as a float",
        edited({f"{VERIFIERS}.age": {"type": "ThresholdVerification", "threshold": 18.5}}),
        *INVALID,
        {f"{VERIFIERS}.age.threshold": "Must be a JSON integer."},
    ),
    (
        "age threshold out of range",
        edited({f"{VERIFIERS}.age": {"type": "ThresholdVerification", "threshold": 0}}),
        *INVALID,
        {f"{VERIFIERS}.age.threshold": "Ensure this value is greater than or equal to 1."},
    ),
    (
        "age direction unknown",
        edited({f"{VERIFIERS}.age": {"type": "ThresholdVerification", "threshold": 18, "direction": "Over"}}),
        *INVALID,
        {f"{VERIFIERS}.age.direction": '"Over" is not one of: Above, Below.'},
    ),
    (
        "commonSettings flag as a string",
        edited({f"{VERIFIERS}.commonSettings": {"failOnMultipleFacesDetected": "yes"}}),
        *INVALID,
        {f"{VERIFIERS}.commonSettings.failOnMultipleFacesDetected": "Must be a JSON boolean (true or false)."},
    ),
    (
        "redirect URL with a javascript scheme",
        edited({f"{VC}.redirectConfig.passedUrl": "javascript:alert(1)"}),
        *INVALID,
        {f"{VC}.redirectConfig.passedUrl": "Enter a valid absolute http(s) URL."},
    ),
    (
        "relative redirect URL",
        edited({f"{VC}.redirectConfig.failedUrl": "/failed"}),
        *INVALID,
        {f"{VC}.redirectConfig.failedUrl": "Enter a valid absolute http(s) URL."},
    ),
    (
        "webhook URL with ftp scheme",
        edited({f"{VC}.webhookConfig.eventCallbackUrl": "ftp://example.com/hook"}),
        *INVALID,
        {f"{VC}.webhookConfig.eventCallbackUrl": "Enter a valid absolute http(s) URL."},
    ),
    (
        "webhook URL that is not a URL",
        edited({f"{VC}.webhookConfig.eventCallbackUrl": "https://"}),
        *INVALID,
        {f"{VC}.webhookConfig.eventCallbackUrl": "Enter a valid absolute http(s) URL."},
    ),
    (
        "webhookConfig without its URL",
        edited({f"{VC}.webhookConfig": {}}),
        *INVALID,
        {f"{VC}.webhookConfig.eventCallbackUrl": "This field is required."},
    ),
    (
        "block is a string",
        edited({f"{VC}.securityConfig": "on"}),
        *INVALID,
        {f"{VC}.securityConfig": "Invalid data. Expected a dictionary, but got str."},
    ),
    (
        "several problems at once are all named",
        edited(
            {
                "name": 1,
                f"{VERIFIERS}.liveness.type": "Nope",
                f"{VC}.resultParameterConfig.includeAgee": True,
                f"{VC}.redirectConfig.passedUrl": "mailto:a@b.c",
            }
        ),
        *INVALID,
        {
            "name": None,
            f"{VERIFIERS}.liveness.type": None,
            f"{VC}.resultParameterConfig.includeAgee": None,
            f"{VC}.redirectConfig.passedUrl": None,
        },
    ),
]


def _post(client: Any, url: str, body: Any, method: str = "post") -> Any:
    raw = body if isinstance(body, str) else json.dumps(body)
    return getattr(client, method)(url, raw, content_type="application/json")


@pytest.mark.parametrize(
    ("body", "status", "code", "fields"), [case[1:] for case in BAD_BODIES], ids=[case[0] for case in BAD_BODIES]
)
def test_a_bad_body_gets_the_exact_error_and_stores_nothing(integrator, body, status, code, fields):
    response = _post(integrator.client, "/v1/verification/create", body)

    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code
    assert set(error["fields"]) == set(fields)
    for name, message in fields.items():
        if message is not None:
            assert error["fields"][name] == [message]
    assert not VerificationConfig.objects.exists()


def test_the_table_has_at_least_25_bad_inputs():
    assert len(BAD_BODIES) >= 25


def test_create_or_update_refuses_every_bad_body_with_the_same_error(integrator):
    for case_id, body, status, code, fields in BAD_BODIES:
        response = _post(integrator.client, "/v1/verification/create-or-update", body)
        error = response.json()["error"]
        assert (response.status_code, error["code"], set(error["fields"])) == (status, code, set(fields)), case_id
    assert not VerificationConfig.objects.exists()


def test_update_refuses_every_bad_body_with_the_same_error_and_keeps_the_stored_config(integrator, stored_id):
    url = f"/v1/verification/get?verificationId={stored_id}"
    before = integrator.client.get(url).json()
    for case_id, body, status, code, fields in BAD_BODIES:
        if isinstance(body, str):
            continue  # not JSON objects: nothing to add a verificationId to
        response = _post(integrator.client, "/v1/verification/update", {**body, "verificationId": stored_id}, "put")
        error = response.json()["error"]
        assert (response.status_code, error["code"], set(error["fields"])) == (status, code, set(fields)), case_id
    assert integrator.client.get(url).json() == before


@pytest.mark.parametrize(
    ("verification_id", "message"),
    [
        (DROP, "This field is required."),
        ("not-a-uuid", "Must be a valid UUID."),
        (12345, "Must be a valid UUID."),
        (None, "This field may not be null."),
    ],
)
def test_update_needs_a_well_formed_verification_id(integrator, verification_id, message):
    body = seed_body("update_request")
    if verification_id is DROP:
        del body["verificationId"]
    else:
        body["verificationId"] = verification_id

    response = _post(integrator.client, "/v1/verification/update", body, "put")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"verificationId": [message]}


@pytest.mark.parametrize("method", ["get", "delete"])
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "This field is required."),
        ("?verificationId=", "Must be a valid UUID."),
        ("?verificationId=42", "Must be a valid UUID."),
        ("?verificationid=39e00c96-6431-4b2e-8707-2fb80e561fbf", "This field is required."),
    ],
)
def test_get_and_delete_need_a_well_formed_verification_id_query_parameter(integrator, method, query, message):
    url = "/v1/verification/get" if method == "get" else "/v1/verification/delete"

    response = getattr(integrator.client, method)(url + query)

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid",
        "message": "The request has invalid fields.",
        "fields": {"verificationId": [message]},
    }


def test_plain_http_urls_are_refused_when_outbound_http_is_off(integrator, settings):
    settings.ALLOW_HTTP_OUTBOUND = False
    body = edited(
        {
            f"{VC}.redirectConfig.passedUrl": "http://example.com/ok",
            f"{VC}.webhookConfig.eventCallbackUrl": "http://example.com/hook",
        }
    )

    response = _post(integrator.client, "/v1/verification/create", body)

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        f"{VC}.redirectConfig.passedUrl": ["Only https:// URLs are allowed here."],
        f"{VC}.webhookConfig.eventCallbackUrl": ["Only https:// URLs are allowed here."],
    }


@pytest.mark.parametrize("url", ["https://169.254.169.254/latest/meta-data", "https://10.0.0.7/hook"])
def test_a_webhook_url_the_outbound_rules_refuse_is_reported_on_its_field(integrator, url):
    with pytest.raises(ValueError) as refused:
        check_url_on_save(url)

    response = _post(
        integrator.client, "/v1/verification/create", edited({f"{VC}.webhookConfig.eventCallbackUrl": url})
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {f"{VC}.webhookConfig.eventCallbackUrl": [str(refused.value)]}
    assert not VerificationConfig.objects.exists()
