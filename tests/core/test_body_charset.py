"""A body declared in a charset that is a codec but no text encoding (``charset=zlib``) is a 400, never a 500."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

FORM = b'--b\r\nContent-Disposition: form-data; name="api_key"\r\n\r\nx\r\n--b--\r\n'


@pytest.mark.parametrize(
    "content_type", ["multipart/form-data; boundary=b; charset=zlib", "application/x-www-form-urlencoded; charset=hex"]
)
@pytest.mark.parametrize("path", ["/verif/submit", "/v1/face/compare"])
def test_the_api_answers_400_in_the_error_shape(integrator, path, content_type):
    body = FORM if content_type.startswith("multipart") else b"api_key=x"
    response = integrator.client.generic("POST", path, body, content_type=content_type)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid"


def test_a_page_answers_400(client):
    response = client.generic(
        "POST", "/admin/login/", b"a=1", content_type="application/x-www-form-urlencoded; charset=zlib"
    )
    assert response.status_code == 400
    assert "not a text encoding" in response.content.decode()


def test_an_unknown_charset_is_left_to_django(integrator):
    """Django ignores a charset it does not know and reads the body as UTF-8: not this guard's business."""
    response = integrator.client.generic(
        "POST", "/v1/signature/validate", b'{"queryString": "a=1"}', content_type="application/json; charset=nonesuch"
    )
    assert response.status_code == 200, response.content
