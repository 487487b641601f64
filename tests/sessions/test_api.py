from __future__ import annotations

import uuid
from datetime import timedelta

import jwt
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.engine import engine_settings
from apps.core.keys import derive_key
from apps.face_engine.factory import engine_choice
from apps.sessions.models import Session
from apps.sessions.selectors import session_result_get, session_result_payload
from apps.sessions.services import session_verdict_record
from apps.sessions.tokens import SESSION_TOKEN_AUDIENCE

from . import real_captures

pytestmark = pytest.mark.django_db

SEED_BODY = {
    "name": "default",
    "externalId": "your-correlation-id",
    "verifierConfigs": {
        "liveness": {"type": "Verification", "challengeType": "Balanced"},
        "age": {"type": "CalculationOnly"},
        "gender": {"type": "CalculationOnly"},
        "faceRecognition": {"type": "DuplicateVerification", "collectionId": "my-collection"},
        "commonSettings": {"failOnMultipleFacesDetected": True},
    },
    "webhookConfig": {"eventCallbackUrl": "https://your-server.example.com/webhook"},
}
RESULT_FIELDS = {
    "verificationSessionId",
    "verificationResult",
    "verificationFailedReasons",
    "livenessVerificationResult",
    "ageVerificationResult",
    "estimatedAge",
    "genderVerificationResult",
    "estimatedGender",
    "faceRecognitionResult",
    "faceId",
    "correlationId",
    "totalFaceCount",
    "customInputParameters",
}


def create(client, body=SEED_BODY):
    return client.post("/v1/verification/create-session", body, format="json")


def test_create_session_answers_the_seed_fields_and_a_hosted_page_url(integrator, settings):
    response = create(integrator.client)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"verificationSessionId", "sessionToken", "sessionUrl"}
    assert body["sessionUrl"].startswith(f"{settings.PUBLIC_BASE_URL}/s/{body['verificationSessionId']}/?k=")
    session = Session.objects.get(id=body["verificationSessionId"])
    assert session.account == integrator.account and session.status == "created"
    assert session.external_id == "your-correlation-id"
    assert session.config["verifierConfigs"]["commonSettings"]["failOnMultipleFacesDetected"] is True
    assert session.config["webhookConfig"]["eventCallbackUrl"] == "https://your-server.example.com/webhook"
    assert len(session.challenges) == 2 and session.mode == "active"


def test_the_session_token_is_a_short_lived_hs256_jwt_for_this_session(integrator):
    body = create(integrator.client).json()
    header = jwt.get_unverified_header(body["sessionToken"])
    claims = jwt.decode(
        body["sessionToken"], derive_key("session-token"), algorithms=["HS256"], audience=SESSION_TOKEN_AUDIENCE
    )
    assert header["alg"] == "HS256"
    assert claims["sub"] == body["verificationSessionId"] and claims["jti"]
    assert 0 < claims["exp"] - claims["iat"] <= 600


def test_the_seed_curl_example_with_only_verifiers_is_accepted(integrator):
    body = {
        "verifierConfigs": {
            "liveness": {"type": "Verification", "challengeType": "Balanced"},
            "age": {"type": "CalculationOnly"},
            "gender": {"type": "CalculationOnly"},
        }
    }
    assert create(integrator.client, body).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "verifierConfigs"),
        ({"verifierConfigs": {"liveness": {"type": "Sometimes"}}}, "verifierConfigs.liveness.type"),
        ({"verifierConfigs": {}, "externalId": 7}, "externalId"),
        ({"verifierConfigs": {}, "unknown": 1}, "unknown"),
        ({"verifierConfigs": [], "name": "x"}, "verifierConfigs"),
        ({"verifierConfigs": {}, "webhookConfig": {"eventCallbackUrl": "ftp://x"}}, "webhookConfig.eventCallbackUrl"),
        (
            {"verifierConfigs": {}, "webhookConfig": {"eventCallbackUrl": "https://10.0.0.1/hook"}},
            "webhookConfig.eventCallbackUrl",
        ),
        (
            {"verifierConfigs": {}, "webhookConfig": {"eventCallbackUrl": "https://169.254.169.254/latest"}},
            "webhookConfig.eventCallbackUrl",
        ),
        ({"verifierConfigs": {}, "verificationId": "nope"}, "verificationId"),
    ],
)
def test_create_session_names_each_invalid_field(integrator, body, field):
    response = create(integrator.client, body)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_create_session_needs_an_api_key(anonymous):
    response = create(anonymous)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_malformed_json_answers_the_error_shape(integrator):
    response = integrator.client.generic(
        "POST", "/v1/verification/create-session", "{nope", content_type="application/json"
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "malformed_json"


def _stored_verification(account, allow_verifiers: bool):
    from apps.verifications.services import verification_create

    return verification_create(
        account=account,
        name=f"stored-{allow_verifiers}",
        verification_config={
            "verifierConfigs": {
                "liveness": {"type": "Verification", "challengeType": "Advanced"},
                "age": {"type": "CalculationOnly"},
            },
            "redirectConfig": {"passedUrl": "https://example.com/ok", "failedUrl": "https://example.com/ko"},
            "sessionOverrideConfig": {"allowVerifierOverrides": allow_verifiers},
        },
    )


def test_a_session_starts_from_a_stored_verification(integrator):
    stored = _stored_verification(integrator.account, allow_verifiers=False)
    response = create(integrator.client, {"verificationId": str(stored.id)})
    assert response.status_code == 200
    session = Session.objects.get(id=response.json()["verificationSessionId"])
    assert session.verification_id == stored.id
    assert len(session.challenges) == 4
    assert session.config["redirectConfig"]["passedUrl"] == "https://example.com/ok"


def test_overrides_apply_only_where_the_stored_config_allows(integrator):
    locked = _stored_verification(integrator.account, allow_verifiers=False)
    open_ = _stored_verification(integrator.account, allow_verifiers=True)
    override = {"verifierConfigs": {"liveness": {"type": "Verification", "challengeType": "Passive"}}}
    refused = create(integrator.client, {"verificationId": str(locked.id), **override})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "override_not_allowed"
    assert "verifierConfigs" in refused.json()["error"]["fields"]
    redirect = {"redirectConfig": {"passedUrl": "https://evil.example/"}}
    assert create(integrator.client, {"verificationId": str(open_.id), **redirect}).status_code == 400
    allowed = create(integrator.client, {"verificationId": str(open_.id), **override})
    session = Session.objects.get(id=allowed.json()["verificationSessionId"])
    assert session.mode == "passive"
    # Verifiers not sent keep their stored settings.
    assert session.config["verifierConfigs"]["age"]["type"] == "CalculationOnly"


def test_an_override_replaces_only_the_fields_it_sends(integrator):
    from apps.signing.redirects import allowed_redirect_origins_set
    from apps.verifications.services import verification_create

    allowed_redirect_origins_set(account=integrator.account, origins=["https://shop.example.com"])
    stored = verification_create(
        account=integrator.account,
        name="stored-open",
        verification_config={
            "verifierConfigs": {
                "liveness": {"type": "Verification", "challengeType": "Passive"},
                "commonSettings": {"failOnMultipleFacesDetected": True},
            },
            "redirectConfig": {"passedUrl": "https://example.com/ok", "failedUrl": "https://example.com/ko"},
            "resultParameterConfig": {"includeSignature": True, "includeSessionId": True},
            "sessionOverrideConfig": {
                "allowVerifierOverrides": True,
                "allowResultParameterOverrides": True,
                "allowRedirectOverrides": True,
            },
        },
    )
    body = {
        "verificationId": str(stored.id),
        "redirectConfig": {"passedUrl": "https://shop.example.com/done"},
        "resultParameterConfig": {"includeAge": True},
        "verifierConfigs": {"commonSettings": {"maxAttempts": 5}},
    }
    session = Session.objects.get(id=create(integrator.client, body).json()["verificationSessionId"])
    config = session.config
    assert config["redirectConfig"] == {
        "passedUrl": "https://shop.example.com/done",
        "failedUrl": "https://example.com/ko",
    }
    flags = config["resultParameterConfig"]
    assert flags["includeAge"] is True and flags["includeSignature"] is True and flags["includeSessionId"] is True
    common = session.typed_config.verifiers.common
    assert common.fail_on_multiple_faces is True and common.max_attempts == 5
    assert session.mode == "passive"


def test_another_accounts_verification_id_answers_404(integrator, other_integrator):
    stored = _stored_verification(other_integrator.account, allow_verifiers=True)
    response = create(integrator.client, {"verificationId": str(stored.id)})
    assert response.status_code == 404


def _result(client, session_id):
    return client.get("/v1/verification/get-session-result", {"verificationSessionId": str(session_id)})


def _finish(session: Session, *, photo: bool = False) -> Session:
    """The session's verdict from a real capture: the astronaut answering its challenges, or a waved print."""
    challenges = tuple(session.challenges)
    if photo:
        verdict = real_captures.print_attack_verdict(challenges)
    else:
        verdict = real_captures.live_active_verdict(challenges)
    Session.objects.filter(id=session.id).update(status="analysing", attempt=1)
    session.refresh_from_db()
    session_verdict_record(session=session, verdict=verdict)
    session.refresh_from_db()
    return session


def test_get_session_result_reports_status_while_unfinished(integrator):
    session_id = create(integrator.client).json()["verificationSessionId"]
    body = _result(integrator.client, session_id).json()
    assert RESULT_FIELDS <= set(body)
    assert body["status"] == "created" and body["verificationResult"] is None
    assert body["correlationId"] == "your-correlation-id"


def test_get_session_result_returns_every_seed_field_after_a_pass(integrator):
    session_id = create(integrator.client, {**SEED_BODY, "customInputParameters": {"userId": "user123"}}).json()[
        "verificationSessionId"
    ]
    _finish(Session.objects.get(id=session_id))
    body = _result(integrator.client, session_id).json()
    assert RESULT_FIELDS <= set(body)
    assert body["verificationResult"] == "Pass" and body["livenessVerificationResult"] == "Pass"
    assert body["verificationFailedReasons"] == []
    assert 18 <= body["estimatedAge"] <= 50 and body["estimatedGender"] == "Female"  # the astronaut
    assert body["ageVerificationResult"] == "Pass" and body["genderVerificationResult"] == "Pass"
    assert body["faceRecognitionResult"] in {"Pass", "Fail", "NotExecuted"}
    assert body["totalFaceCount"] == 1 and body["customInputParameters"] == {"userId": "user123"}
    assert body["status"] == "completed" and body["engine"] == engine_choice(engine_settings())
    assert body["modelVersions"] == dict(real_captures.engine().versions)
    assert body["scores"]["depth"] >= 0.7 and body["scores"]["facePresence"] > 0.9


def test_get_session_result_tells_of_the_icao_photo_without_reading_its_bytes(integrator):
    session_id = create(integrator.client).json()["verificationSessionId"]
    session = _finish(Session.objects.get(id=session_id))
    assert session.icao_jpeg  # the pass stored a photo
    with CaptureQueriesContext(connection) as queries:
        with_photo = _result(integrator.client, session_id).json()
    reads = [q["sql"] for q in queries.captured_queries if 'FROM "capture_session"' in q["sql"]]
    # The photo's column only in "icao_jpeg IS NOT NULL", never as a selected column.
    assert reads and not any('"icao_jpeg",' in sql or '"icao_jpeg" FROM' in sql for sql in reads), reads
    Session.objects.filter(id=session_id).update(icao_jpeg=None)  # what the photo purge does
    without_photo = _result(integrator.client, session_id).json()
    assert with_photo["icaoPhotoAvailable"] is True and without_photo["icaoPhotoAvailable"] is False


def test_get_session_results_prepared_read_loads_the_row_as_the_orm_does(integrator):
    """session_result_get runs SQL the ORM compiled once; the row it loads must be the ORM's, field by field."""
    session_id = create(integrator.client, {**SEED_BODY, "customInputParameters": {"userId": "u1"}}).json()[
        "verificationSessionId"
    ]
    orm = _finish(Session.objects.get(id=session_id))
    for _ in range(2):  # the first read prepares the query, the second reuses it
        read = session_result_get(account=integrator.account, session_id=session_id)
        assert "icao_jpeg" in read.get_deferred_fields() and read.icao_present is True
        for field in Session._meta.concrete_fields:
            if field.name != "icao_jpeg":
                assert getattr(read, field.attname) == getattr(orm, field.attname), field.name
        assert session_result_payload(session=read) == session_result_payload(session=orm)
    Session.objects.filter(id=session_id).update(icao_jpeg=None)
    assert session_result_get(account=integrator.account, session_id=session_id).icao_present is False


def test_unknown_foreign_and_old_sessions_all_answer_404_alike(integrator, other_integrator):
    session_id = create(integrator.client).json()["verificationSessionId"]
    unknown = _result(integrator.client, uuid.uuid4())
    foreign = _result(other_integrator.client, session_id)
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        old = _result(integrator.client, session_id)
    assert unknown.status_code == foreign.status_code == old.status_code == 404
    assert unknown.json() == foreign.json() == old.json()


def test_a_malformed_session_id_answers_400(integrator):
    response = integrator.client.get("/v1/verification/get-session-result", {"verificationSessionId": "x"})
    assert response.status_code == 400
    assert "verificationSessionId" in response.json()["error"]["fields"]


@pytest.mark.slow
def test_the_icao_photo_is_a_480x600_jpeg_for_a_passed_session(integrator):
    from io import BytesIO

    from PIL import Image

    session_id = create(integrator.client).json()["verificationSessionId"]
    url = "/v1/verification/get-session-photo"
    assert integrator.client.get(url, {"verificationSessionId": session_id}).status_code == 202
    _finish(Session.objects.get(id=session_id))
    response = integrator.client.get(url, {"verificationSessionId": session_id})
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert Image.open(BytesIO(response.content)).size == (480, 600)
    report = integrator.client.get("/v1/verification/get-session-photo-report", {"verificationSessionId": session_id})
    # The synthetic webcam frame has a busy background, so the photo is not ICAO-compliant; the report says why.
    checks = report.json()["checks"]
    assert checks["eyesOpen"] is True
    assert report.json()["compliant"] is all(checks.values())


@pytest.mark.slow
def test_a_failed_session_has_no_icao_photo(integrator, other_integrator):
    session_id = create(integrator.client).json()["verificationSessionId"]
    _finish(Session.objects.get(id=session_id), photo=True)
    url = "/v1/verification/get-session-photo"
    assert integrator.client.get(url, {"verificationSessionId": session_id}).status_code == 404
    assert other_integrator.client.get(url, {"verificationSessionId": session_id}).status_code == 404


@pytest.mark.parametrize("path", ["get-session-photo", "get-session-photo-report"])
def test_the_photo_endpoints_answer_202_while_unfinished_and_404_once_it_cannot_come(integrator, path):
    url = f"/v1/verification/{path}"
    ids = {status: create(integrator.client).json()["verificationSessionId"] for status in Session.Status.values}
    for status, session_id in ids.items():
        Session.objects.filter(id=session_id).update(status=status)
    for status in ("created", "in_progress", "analysing"):
        waiting = integrator.client.get(url, {"verificationSessionId": ids[status]})
        assert waiting.status_code == 202, status
        assert waiting.json() == {"verificationSessionId": ids[status], "status": status}
    for status in ("expired", "cancelled"):
        assert integrator.client.get(url, {"verificationSessionId": ids[status]}).status_code == 404, status
    assert integrator.client.get(url, {"verificationSessionId": str(uuid.uuid4())}).status_code == 404
    assert integrator.client.get(url, {"verificationSessionId": "nope"}).status_code == 400


def _stored_with_webhook(account, *, allow_webhook: bool):
    from apps.verifications.services import verification_create

    return verification_create(
        account=account,
        name=f"webhook-{allow_webhook}",
        verification_config={
            "verifierConfigs": {"liveness": {"type": "Verification", "challengeType": "Passive"}},
            "webhookConfig": {"eventCallbackUrl": "https://stored.example.com/hook"},
            "sessionOverrideConfig": {"allowWebhookOverrides": allow_webhook},
        },
    )


def test_a_session_overrides_the_stored_webhook_only_where_the_config_allows(integrator):
    override = {"webhookConfig": {"eventCallbackUrl": "https://elsewhere.example.com/hook"}}
    locked = _stored_with_webhook(integrator.account, allow_webhook=False)
    refused = create(integrator.client, {"verificationId": str(locked.id), **override})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "override_not_allowed"
    assert "webhookConfig" in refused.json()["error"]["fields"]
    kept = create(integrator.client, {"verificationId": str(locked.id)})
    session = Session.objects.get(id=kept.json()["verificationSessionId"])
    assert session.config["webhookConfig"]["eventCallbackUrl"] == "https://stored.example.com/hook"

    open_ = _stored_with_webhook(integrator.account, allow_webhook=True)
    allowed = create(integrator.client, {"verificationId": str(open_.id), **override})
    session = Session.objects.get(id=allowed.json()["verificationSessionId"])
    assert session.config["webhookConfig"]["eventCallbackUrl"] == "https://elsewhere.example.com/hook"


def test_the_retry_limit_comes_from_the_config_when_it_sets_one(integrator, settings):
    settings.SESSION_MAX_ATTEMPTS = 3
    body = {"verifierConfigs": {**SEED_BODY["verifierConfigs"], "commonSettings": {"maxAttempts": 1}}}
    limited = Session.objects.get(id=create(integrator.client, body).json()["verificationSessionId"])
    default = Session.objects.get(id=create(integrator.client).json()["verificationSessionId"])
    assert (limited.max_attempts, default.max_attempts) == (1, 3)
    too_many = create(integrator.client, {"verifierConfigs": {"commonSettings": {"maxAttempts": 11}}})
    assert too_many.status_code == 400
    assert "verifierConfigs.commonSettings.maxAttempts" in too_many.json()["error"]["fields"]


@pytest.mark.slow
def test_a_passed_session_without_face_recognition_can_be_compared_with_a_photo(integrator):
    import base64

    import cv2

    from tests.face_engine.synth_faces import portrait

    body = {"verifierConfigs": {"liveness": {"type": "Verification", "challengeType": "Balanced"}}}
    session = _finish(Session.objects.get(id=create(integrator.client, body).json()["verificationSessionId"]))
    assert session.verification_result == "Pass"
    photo = cv2.imencode(".jpg", cv2.cvtColor(portrait("astronaut").image, cv2.COLOR_RGB2BGR))[1].tobytes()
    other = cv2.imencode(".jpg", cv2.cvtColor(portrait("t1_3").image, cv2.COLOR_RGB2BGR))[1].tobytes()

    def compare(image: bytes) -> dict:
        payload = {"image": base64.b64encode(image).decode(), "verificationSessionId": str(session.id)}
        response = integrator.client.post("/v1/face/compare", payload, format="json")
        assert response.status_code == 200, response.content
        return response.json()

    assert compare(photo)["isIdentical"] is True
    assert compare(other)["isIdentical"] is False
