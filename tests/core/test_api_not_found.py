"""An unknown API path answers any method with the API's JSON 404: a POST got Django's HTML 403 (CSRF), since the
catch-all view was not exempt from CSRF as the API's DRF views are. The site keeps its CSRF check."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.django_db
def test_the_site_still_checks_csrf_and_an_unknown_api_path_answers_a_json_404_to_a_post():
    client = Client(enforce_csrf_checks=True)
    assert client.post("/admin/login/", {"username": "a", "password": "b"}).status_code == 403
    # An API client never has a CSRF cookie: a write to a path that does not exist is the API's JSON 404.
    for path in ("/v1/no-such-thing", "/v1/verification/get-session-result/", "/api/v1/no-such-thing"):
        for method in (client.post, client.put, client.patch, client.delete):
            answer = method(path, data="{}", content_type="application/json")
            assert answer.status_code == 404, (path, method, answer.content)
            assert answer.json()["error"]["code"] == "not_found"
