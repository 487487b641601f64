"""The Identity Verification document (004), point by point: secret keys on /verif/submit, ID photos in
any common format, millisecond timestamps, riskFactors, and file links a browser opens without a key."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from PIL import Image
from pillow_heif import register_heif_opener

from apps.core.engine import get_engine
from apps.core.errors import ApplicationError
from apps.faces.comparison import face_from_upload
from apps.faces.id_photo import id_photo_for_engine
from apps.faces.models import PartnerProfile, SelfieCheck
from apps.webhooks.event_types import EventType
from apps.webhooks.models import WebhookEvent

from .test_selfie_id import submit

pytestmark = pytest.mark.django_db
register_heif_opener()
MILLISECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _as(jpeg: bytes, fmt: str) -> bytes:
    out = io.BytesIO()
    Image.open(io.BytesIO(jpeg)).save(out, format=fmt)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["WEBP", "GIF", "BMP", "HEIF", "TIFF", "PNG"])
def test_an_id_photo_in_any_common_format_shows_its_face_to_the_engine(faces, fmt):
    photo = _as(faces.astronaut, fmt)
    converted = id_photo_for_engine(data=photo)
    assert converted.startswith((b"\xff\xd8\xff", b"\x89PNG"))
    assert len(face_from_upload(engine=get_engine(), data=converted, field="id_photo")) >= 128


@pytest.mark.parametrize("data", [b"RIFF\x00\x00\x00\x00WEBPjunk", b"GIF89a", b"BM" + b"\0" * 40, b"not an image"])
def test_a_broken_image_is_a_400_bad_image(data):
    with pytest.raises(ApplicationError) as raised:
        id_photo_for_engine(data=data)
    assert (raised.value.status, raised.value.code) == (400, "badImage") and "id_photo" in raised.value.fields


@pytest.mark.slow
def test_a_partner_backend_submits_with_its_secret_key_a_heic_photo_and_gets_004_shapes(
    integrator,
    selfie_videos,
    faces,
):
    PartnerProfile.objects.create(account=integrator.account, webhook_url="http://127.0.0.1:9/hook")
    response = submit(integrator.key, selfie_videos["mp4"], _as(faces.astronaut, "HEIF"), name="selfie.mp4")
    assert response.status_code == 200, response.content
    result = response.json()["result"]
    assert result["status"] == "verified", result
    assert MILLISECONDS.match(result["timestamp"]), result["timestamp"]
    assert result["verificationAssessment"]["riskFactors"] == []
    sent = json.loads(WebhookEvent.objects.get(type=EventType.SELFIE_CHECK_COMPLETED).body)
    assert MILLISECONDS.match(sent["completed_at"]) and sent["completed_at"] == result["timestamp"]
    assert sent["verification_result"]["verificationAssessment"]["riskFactors"] == []

    # The file URLs open in a browser with no key, for one file each, until they expire.
    browser = Client()
    photo_url, video_url = result["files"]["idPhoto"]["url"], result["files"]["selfieVideo"]["url"]
    assert sent["id_photo_url"].split("?")[0] == photo_url.split("?")[0]

    def path(url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.path}?{parts.query}"

    opened = browser.get(path(photo_url))
    assert opened.status_code == 200 and b"".join(opened.streaming_content) == _as(faces.astronaut, "HEIF")
    assert "attachment" not in opened.get("Content-Disposition", "")
    assert browser.get(path(video_url)).status_code == 200
    swapped = path(photo_url).replace("/idPhoto?", "/selfieVideo?")
    assert browser.get(swapped).status_code == 403  # signed for the photo only
    tampered = re.sub(r"reExpiration=(\d+)", lambda m: f"reExpiration={int(m[1]) + 3600}", path(photo_url))
    assert browser.get(tampered).status_code == 403
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        expired = browser.get(path(photo_url))
    assert expired.status_code == 403 and expired.json()["error"]["code"] == "expired"
    SelfieCheck.objects.update(files_purged_at=timezone.now())
    assert browser.get(path(photo_url)).status_code == 410


@pytest.mark.slow
def test_a_rejected_check_names_its_risk_factors(publishable, selfie_videos, faces):
    response = submit(publishable, selfie_videos["mp4"], faces.people[2], name="selfie.mp4")
    assessment = response.json()["result"]["verificationAssessment"]
    assert assessment["verificationStatus"] == "rejected"
    assert "faceMismatch" in assessment["riskFactors"]


def test_a_file_link_of_an_unknown_check_is_a_404():
    response = Client().get("/verif/files/6a0d2b1e-8f57-4d5c-9e4c-6f1f1b9d2a10/idPhoto?reExpiration=1&reSignature=00")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
