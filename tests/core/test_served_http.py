"""Request bodies through the real servers (``python -m config.serve``, daphne, and the API process ``python -m
config.serve_api``, granian): what reaches the API's error shape.

Twisted (under daphne) parsed multipart bodies itself and answered a malformed
one with a bare 400 before the app saw it; a chunked body reached Django with
no Content-Length (from either server), so DRF read it as empty.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator

import pytest

from tests.served import Service, embedded_service

pytestmark = [pytest.mark.slow]

PASSIVE = {"verifierConfigs": {"liveness": {"type": "Verification", "challengeType": "Passive"}}}


@pytest.fixture(scope="module", params=["config.serve", "config.serve_api"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with embedded_service(tmp_path_factory.mktemp("served"), "Bodies", module=request.param) as service:
        yield service


def _post(served: Service, path: str, body: bytes, content_type: str, chunked: bool = False) -> tuple[int, str, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
    headers = {"Authorization": f"ApiKey {served.key}", "Content-Type": content_type}
    if chunked:
        connection.request("POST", path, body=iter([body[:10], body[10:]]), headers=headers, encode_chunked=True)
    else:
        connection.request("POST", path, body=body, headers=headers)
    response = connection.getresponse()
    result = response.status, response.getheader("Content-Type") or "", response.read()
    connection.close()
    return result


@pytest.mark.parametrize("path", ["/v1/face/compare", "/v1/face/identify"])
@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"garbage", "multipart/form-data; boundary=xyz"),
        (b'--xyz\r\nContent-Disposition: form-data; name="image1"\r\n\r\nabc', "multipart/form-data; boundary=xyz"),
        (b"--xyz--", "multipart/form-data"),
        (b"--\r\n\r\n", "multipart/form-data; boundary="),
    ],
)
def test_a_malformed_multipart_body_gets_a_400_in_the_error_shape(served, path, body, content_type):
    status, received_type, content = _post(served, path, body, content_type)
    assert status == 400 and received_type == "application/json", (status, received_type, content)
    error = json.loads(content)["error"]
    assert error["code"] and error["message"]


def test_a_chunked_json_body_is_read(served):
    status, _, content = _post(
        served, "/v1/verification/create-session", json.dumps(PASSIVE).encode(), "application/json", chunked=True
    )
    assert status == 200, content
    assert json.loads(content)["sessionToken"]


def test_a_chunked_multipart_body_is_read(served):
    body = b'--xyz\r\nContent-Disposition: form-data; name="collectionId"\r\n\r\nmembers\r\n--xyz--\r\n'
    status, _, content = _post(served, "/v1/face/identify", body, "multipart/form-data; boundary=xyz", chunked=True)
    # The form was read: collectionId arrived, only the image is missing.
    assert status == 400 and json.loads(content)["error"]["fields"] == {"image": ["This field is required."]}
