"""Selfie video versus ID photo (004): /verif/submit end to end, the hosted page and errors."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from apps.accounts.models import ApiKey
from apps.faces.models import PartnerProfile, SelfieCheck
from apps.webhooks.event_types import EventType
from apps.webhooks.models import WebhookEvent

from .test_selfie_id_retention import stored_check

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="session")
def spoof_videos(tmp_path_factory) -> dict[str, bytes]:
    """Selfie videos that are not a live person: one frame repeated, a still face that never blinks, a waved print."""
    from tests.face_engine import synthetic

    folder = tmp_path_factory.mktemp("spoofs")
    clips = {
        "frozen": synthetic.attack_sequence("frozen", "astronaut", seconds=4.0, fps=10),
        "still": synthetic.passive_sequence("astronaut", 6.5, fps=10, sway=0.3, blink_at_s=None),
        "print_moved": synthetic.attack_sequence("print_moved", "astronaut", seconds=7.0, fps=10),
    }
    return {
        name: synthetic.write_mp4(frames, folder / f"{name}.mp4", fps=10).read_bytes() for name, frames in clips.items()
    }


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


def submit(key: str | None, video: bytes | None, photo: bytes | None, name: str = "selfie.webm", **extra):
    body: dict = {"user_identifier": "user123", "user_email": "user@example.com", **extra}
    if key is not None:
        body["api_key"] = key
    if video is not None:
        body["selfie_video"] = SimpleUploadedFile(name, video, "video/webm")
    if photo is not None:
        body["id_photo"] = SimpleUploadedFile("id.jpg", photo, "image/jpeg")
    return Client().post("/verif/submit", body)


def test_a_live_selfie_video_matching_the_id_photo_is_verified(integrator, publishable, selfie_videos, faces):
    PartnerProfile.objects.create(account=integrator.account, webhook_url="http://127.0.0.1:9/hook")
    response = submit(publishable, selfie_videos["webm"], faces.astronaut)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["success"] is True
    result = body["result"]
    assert result["sessionId"] == body["check_id"]
    assert result["status"] == "verified", result
    comparison = result["faceComparison"]
    assert comparison["isIdentical"] is True
    assert 0 < comparison["confidence"] <= 1 and comparison["similarityScore"] == round(comparison["confidence"] * 100)
    assert comparison["method"].startswith("face_embedding")
    assessment = result["verificationAssessment"]
    assert assessment["verificationStatus"] == "verified" and assessment["overallScore"] >= 50
    assert assessment["confidenceLevel"] in ("high", "medium", "low")
    assert result["liveness"]["result"] == "Pass"
    assert result["files"]["selfieVideo"]["fileName"].endswith(".webm")
    # The partner can fetch both files with its secret key, and the webhook was recorded with the check.
    url = result["files"]["idPhoto"]["url"]
    download = integrator.client.get(url.split("127.0.0.1:8000", 1)[-1])
    assert download.status_code == 200 and b"".join(download.streaming_content) == faces.astronaut
    event = WebhookEvent.objects.get(type=EventType.SELFIE_CHECK_COMPLETED)
    sent = json.loads(event.body)
    assert sent["check_id"] == body["check_id"]
    assert sent["user_identifier"] == "user123"
    assert sent["verification_result"]["status"] == "verified"


def test_an_id_photo_of_someone_else_is_rejected(integrator, publishable, selfie_videos, faces):
    response = submit(publishable, selfie_videos["mp4"], faces.people[2], name="selfie.mp4")
    assert response.status_code == 200, response.content
    result = response.json()["result"]
    assert result["status"] == "rejected"
    assert result["faceComparison"]["isIdentical"] is False
    assert result["verificationAssessment"]["overallScore"] < 50
    assert SelfieCheck.objects.get().status == "rejected"
    check = integrator.client.get("/v1/verif/check/get", {"checkId": response.json()["check_id"]})
    assert check.status_code == 200 and check.json()["result"]["status"] == "rejected"


@pytest.mark.parametrize(
    ("video", "reason"),
    [("frozen", "presentationAttack"), ("print_moved", "presentationAttack"), ("still", "insufficientMotion")],
)
def test_a_selfie_video_that_is_not_live_is_rejected_even_when_the_face_matches(
    integrator, publishable, spoof_videos, faces, video, reason
):
    PartnerProfile.objects.create(account=integrator.account, webhook_url="http://127.0.0.1:9/hook")
    response = submit(publishable, spoof_videos[video], faces.astronaut, name="selfie.mp4")
    assert response.status_code == 200, response.content
    result = response.json()["result"]
    # The same person as the ID photo: only liveness can reject it.
    assert result["faceComparison"]["isIdentical"] is True
    assert result["liveness"]["result"] == "Fail"
    assert reason in result["liveness"]["reasons"], result["liveness"]
    assert result["status"] == "rejected"
    assessment = result["verificationAssessment"]
    assert assessment["verificationStatus"] == "rejected" and assessment["overallScore"] < 50
    assert assessment["summary"] == "The selfie video did not pass the liveness check"
    check = SelfieCheck.objects.get(id=response.json()["check_id"])
    assert check.status == "rejected" and check.result["liveness"]["result"] == "Fail"
    sent = json.loads(WebhookEvent.objects.get(type=EventType.SELFIE_CHECK_COMPLETED).body)
    assert sent["verification_result"]["status"] == "rejected"


def test_the_optional_email_and_phone_are_stored_on_the_check(integrator, publishable, selfie_videos, faces):
    response = submit(
        publishable,
        selfie_videos["mp4"],
        faces.astronaut,
        name="selfie.mp4",
        user_identifier="user-77",
        user_email=" jane.doe@example.org ",
        user_phone="+44 20 7946 0958",
    )
    assert response.status_code == 200, response.content
    check = SelfieCheck.objects.get(id=response.json()["check_id"])
    assert (check.user_identifier, check.user_email, check.user_phone) == (
        "user-77",
        "jane.doe@example.org",
        "+44 20 7946 0958",
    )
    read = integrator.client.get("/v1/verif/check/get", {"checkId": str(check.id)}).json()
    assert (read["user_email"], read["user_phone"]) == ("jane.doe@example.org", "+44 20 7946 0958")


def test_a_check_without_email_or_phone_stores_them_blank(publishable, selfie_videos, faces):
    response = Client().post(
        "/verif/submit",
        {
            "api_key": publishable,
            "user_identifier": "user-78",
            "selfie_video": SimpleUploadedFile("selfie.mp4", selfie_videos["mp4"], "video/mp4"),
            "id_photo": SimpleUploadedFile("id.jpg", faces.astronaut, "image/jpeg"),
        },
    )
    assert response.status_code == 200, response.content
    check = SelfieCheck.objects.get(id=response.json()["check_id"])
    assert (check.user_identifier, check.user_email, check.user_phone) == ("user-78", "", "")


@pytest.mark.parametrize(
    ("key", "identifier", "video", "photo", "status", "code", "message"),
    [
        (None, "u", True, True, 400, "api_key_required", "API key is required"),
        ("pk", "", True, True, 400, "user_identifier_required", "User identifier is required"),
        ("lp_pk_000000000000_nope", "u", True, True, 401, "invalid_api_key", "Invalid API key"),
        ("pk", "u", False, True, 400, "files_required", "Both selfie video and ID photo are required"),
        ("pk", "u", True, False, 400, "files_required", "Both selfie video and ID photo are required"),
    ],
)
def test_submit_answers_the_004_errors(publishable, key, identifier, video, photo, status, code, message):
    response = submit(
        publishable if key == "pk" else key,
        b"\x00" * 100 if video else None,
        b"\xff\xd8" if photo else None,
        user_identifier=identifier,
    )
    assert response.status_code == status
    error = response.json()["error"]
    assert (error["code"], error["message"]) == (code, message)


def test_submit_refuses_a_revoked_secret_key(integrator, selfie_videos, faces):
    # A secret key is accepted (a partner's backend posts the files: tests/faces/test_selfie_id_004.py), a
    # revoked one is not.
    from apps.accounts.services import api_key_revoke

    api_key_revoke(api_key=ApiKey.objects.get(account=integrator.account))
    response = submit(integrator.key, selfie_videos["mp4"], faces.astronaut)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert not SelfieCheck.objects.exists()


@pytest.mark.parametrize(
    ("video", "photo", "field", "code"),
    [
        ("corrupt", "astronaut", "selfie_video", "badVideo"),
        ("faceless", "astronaut", "selfie_video", "noFace"),
        ("mp4", "no_face", "id_photo", "noFace"),
        ("mp4", "two_people", "id_photo", "multipleFaces"),
    ],
)
def test_unusable_files_are_a_400_naming_the_file(publishable, selfie_videos, faces, video, photo, field, code):
    clip = b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 500 if video == "corrupt" else selfie_videos[video]
    response = submit(publishable, clip, getattr(faces, photo), name="selfie.mp4")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert list(error["fields"]) == [field]
    assert not SelfieCheck.objects.exists()


def test_a_51_mb_selfie_video_is_refused(publishable, faces):
    response = submit(publishable, b"\x00" * (51 * 1024 * 1024), faces.astronaut)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


def test_a_body_beyond_the_upload_limit_is_refused_before_it_is_read(publishable, settings):
    limit = settings.API_BODY_LIMITS["/verif/submit"]
    response = Client().generic(
        "POST",
        "/verif/submit",
        b"x" * 16,
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(limit + 1),
    )
    assert response.status_code == 413


def test_another_account_cannot_read_a_check(integrator, other_integrator, faces):
    check_id = str(stored_check(integrator.account, faces).id)
    assert integrator.client.get("/v1/verif/check/get", {"checkId": check_id}).status_code == 200
    assert other_integrator.client.get("/v1/verif/check/get", {"checkId": check_id}).status_code == 404
    file = other_integrator.client.get("/v1/verif/check/file", {"checkId": check_id, "file": "idPhoto"})
    assert file.status_code == 404


# --- the hosted page ---------------------------------------------------------------------------------


def test_the_hosted_page_opens_with_a_publishable_key(integrator, publishable):
    PartnerProfile.objects.create(account=integrator.account, display_name="Acme Bank", accent_color="#aa0000")
    response = Client().get("/verif/", {"api_key": publishable, "user_identifier": "user123"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Acme Bank" in html and "#aa0000" in html
    assert 'id="verif-form"' in html and "/verif/submit" in html
    assert response["Referrer-Policy"] == "no-referrer"


def test_the_hosted_page_refuses_a_secret_key_in_its_url_without_echoing_it(integrator):
    response = Client().get("/verif/", {"api_key": integrator.key, "user_identifier": "user123"})
    assert response.status_code == 401
    html = response.content.decode()
    assert "publishable" in html
    assert integrator.key not in html
    assert 'id="verif-form"' not in html


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"user_identifier": "u"}, 400, "This link is missing its key."),
        ({"api_key": "PK"}, 400, "This link does not say who is being verified."),
        ({"api_key": "lp_pk_000000000000_nope", "user_id": "u"}, 401, "key is not valid. Go back"),
    ],
)
def test_the_hosted_page_explains_what_is_missing(publishable, params, status, message):
    params = {k: (publishable if v == "PK" else v) for k, v in params.items()}
    response = Client().get("/verif/", params)
    assert response.status_code == status
    assert message in response.content.decode()


def test_an_internal_failure_is_the_004_processing_error_not_a_stack_trace(publishable, faces, monkeypatch):
    import apps.faces.selfie_id as verif

    def broken(**kwargs):
        raise RuntimeError("decoder exploded")

    monkeypatch.setattr(verif, "_liveness", broken)
    response = submit(publishable, b"\x00" * 100, faces.astronaut)
    assert response.status_code == 500
    assert response.json()["error"] == {
        "code": "processing_failed",
        "message": "Verification processing failed",
        "fields": {},
    }
    assert b"decoder exploded" not in response.content


def test_a_publishable_key_can_start_checks_and_nothing_else(publishable):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"ApiKey {publishable}")
    assert client.get("/v1/collection/get-all").status_code == 401
    assert client.get("/v1/verif/check/get", {"checkId": "x"}).status_code == 401


def test_submit_answers_json_errors_for_the_wrong_method_and_a_broken_form(publishable):
    wrong = Client().get("/verif/submit")
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"
    broken = Client().generic(
        "POST", "/verif/submit", b"--nope\r\nnot a part", content_type="multipart/form-data; boundary=x"
    )
    assert broken.status_code == 400
    assert broken.json()["error"]["code"] in ("invalid", "api_key_required")


def test_the_partner_sets_its_theme_and_webhook_url_through_the_api(integrator, other_integrator):
    client = integrator.client
    assert client.get("/v1/verif/settings").json() == {"displayName": "", "accentColor": "#2457d6", "webhookUrl": ""}
    body = {"displayName": "Acme Bank", "accentColor": "#aa0000", "webhookUrl": "https://hooks.example.com/verif"}
    assert client.post("/v1/verif/settings", body, format="json").json() == body
    assert client.post("/v1/verif/settings", {"displayName": "Acme"}, format="json").json()["accentColor"] == "#aa0000"
    bad = client.post("/v1/verif/settings", {"webhookUrl": "ftp://x", "accentColor": "red"}, format="json")
    assert bad.status_code == 400 and "accentColor" in bad.json()["error"]["fields"]
    refused = client.post("/v1/verif/settings", {"webhookUrl": "http://10.0.0.1/hook"}, format="json")
    assert refused.status_code == 400 and "webhookUrl" in refused.json()["error"]["fields"]
    assert other_integrator.client.get("/v1/verif/settings").json()["displayName"] == ""


def test_an_accent_colour_too_light_under_the_buttons_white_text_is_refused_in_the_api_and_the_admin(integrator):
    """The /verif/ button's text is white on the accent: the 4.5:1 rule of every brand colour (docs/branding.md)."""
    from apps.faces.admin import PartnerProfileForm

    refused = integrator.client.post("/v1/verif/settings", {"accentColor": "#ffffff"}, format="json")
    assert refused.status_code == 400 and "4.5:1" in refused.json()["error"]["fields"]["accentColor"][0]
    form = PartnerProfileForm(data={"account": integrator.account.pk, "accent_color": "#ffcc00"})
    assert not form.is_valid() and "4.5:1" in form.errors["accent_color"][0]
    kept = PartnerProfileForm(data={"account": integrator.account.pk, "accent_color": "#767676"})
    assert kept.is_valid(), kept.errors


def test_submissions_are_rate_limited_per_partner_and_address(publishable, settings, faces):
    settings.VERIF_SUBMITS_PER_HOUR = 2
    for _ in range(2):
        assert submit(publishable, None, faces.astronaut).status_code == 400  # counted, then refused for the file
    limited = submit(publishable, None, faces.astronaut)
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "throttled"
    assert 0 < int(limited["Retry-After"]) <= 3600


@pytest.mark.parametrize(
    ("content_type", "encode"),
    [("application/x-www-form-urlencoded", urlencode), ("application/json", json.dumps)],
)
def test_a_body_that_is_not_multipart_is_refused_before_the_key_is_checked(publishable, settings, content_type, encode):
    settings.VERIF_SUBMITS_PER_HOUR = 1
    body = encode({"api_key": publishable, "user_identifier": "user123"})
    for _ in range(2):
        refused = Client().post("/verif/submit", body, content_type=content_type)
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid"
    assert submit(publishable, None, None).json()["error"]["code"] == "files_required"  # not counted: no 429


@pytest.mark.parametrize(("field", "limit"), [("user_identifier", 200), ("user_email", 254), ("user_phone", 40)])
def test_a_text_field_longer_than_its_limit_is_refused_not_cut(publishable, selfie_videos, faces, field, limit):
    """Cut to the limit, two users whose ids share their first 200 characters were one user to the partner."""
    refused = submit(publishable, selfie_videos["webm"], faces.astronaut, **{field: "7" * (limit + 1)})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid"
    assert list(refused.json()["error"]["fields"]) == [field]
    assert not SelfieCheck.objects.exists()


def test_wrong_keys_with_a_publishable_keys_prefix_do_not_lock_that_key_for_everyone(publishable, settings):
    """A publishable key is printed on the partner's pages, so anyone can send wrong keys with its prefix. Counted
    per prefix, a few of them shut the page for every end user until the window ended; now they count against
    the sender's address only."""
    settings.API_AUTH_FAILURES_PER_KEY = "2/10m"
    settings.API_AUTH_FAILURES_PER_ADDRESS = "1000/10m"
    prefix = publishable.rsplit("_", 1)[0]
    assert [submit(f"{prefix}_wrong{n}", None, None).status_code for n in range(5)] == [401] * 5
    accepted = submit(publishable, None, None)  # the key is good: the request goes on to its missing files
    assert accepted.status_code == 400 and accepted.json()["error"]["code"] == "files_required"
    # A secret key's prefix keeps its own limit: its secret part can be guessed at.
    secret_prefix = "lp_sk_" + prefix.removeprefix("lp_pk_")
    assert [submit(f"{secret_prefix}_wrong{n}", None, None).status_code for n in range(3)] == [401, 401, 429]


def test_submit_keeps_a_secret_keys_allow_list_and_the_failed_authentication_limits(
    integrator, publishable, settings, selfie_videos, faces
):
    """As on the API: a secret key outside its networks is 403; wrong keys count, then even a right one is 429."""
    from apps.accounts.services import api_key_networks_set

    secret = ApiKey.objects.get(account=integrator.account, kind=ApiKey.Kind.SECRET)
    api_key_networks_set(api_key=secret, networks=["10.0.0.0/8"])
    refused = submit(integrator.key, selfie_videos["mp4"], faces.astronaut)  # the test client is 127.0.0.1
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert not SelfieCheck.objects.exists()
    settings.API_AUTH_FAILURES_PER_ADDRESS = "2/m"
    for _ in range(2):
        assert submit("lp_sk_" + "x" * 40, None, None).status_code == 401
    assert submit("lp_sk_" + "x" * 40, None, None).status_code == 429  # the failure over the limit
    throttled = submit(publishable, None, None)
    assert throttled.status_code == 429 and throttled["Retry-After"]
