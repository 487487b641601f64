"""Photos larger than the engine takes (in bytes or in pixels) are scaled down before it sees them."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

pytestmark = pytest.mark.django_db


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def wide_plain_photo(faces) -> bytes:
    """5000x3000 px, past the engine's 4096 px a side, yet a few hundred KB: a face on a plain grey canvas."""
    canvas = Image.new("RGB", (5000, 3000), (200, 200, 200))
    canvas.paste(Image.open(io.BytesIO(faces.astronaut)).resize((1040, 1120)), (2000, 900))
    out = io.BytesIO()
    canvas.save(out, format="JPEG", quality=90)
    assert len(out.getvalue()) < 1_400_000
    return out.getvalue()


def test_a_photo_too_wide_for_the_engine_but_small_in_bytes_is_scaled_down_for_compare(
    integrator, faces, wide_plain_photo
):
    body = {"image1": b64(wide_plain_photo), "image2": b64(faces.astronaut_again)}
    response = integrator.client.post("/v1/face/compare", body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["isIdentical"] is True


def test_a_photo_too_wide_for_the_engine_but_small_in_bytes_is_scaled_down_for_identify(
    integrator, faces, wide_plain_photo, embed
):
    from tests.faces.conftest import face_stored

    outcome = face_stored(integrator.account, embed, faces.astronaut)
    body = {"collectionId": "members", "image": b64(wide_plain_photo)}
    response = integrator.client.post("/v1/face/identify", body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["match"]["faceId"] == outcome.face_id
