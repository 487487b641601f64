from __future__ import annotations

import os
import re

import pytest


@pytest.mark.django_db
def test_healthz_answers_the_utc_time_without_auth(anonymous):
    response = anonymous.get("/v1/healthz")
    assert response.status_code == 200
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z", response.content.decode())


@pytest.mark.django_db
def test_readyz_reports_each_dependency(anonymous):
    response = anonymous.get("/v1/readyz")
    body = response.json()
    assert set(body["checks"]) == {"database", "broker", "channelLayer", "faceEngine"}
    assert response.status_code == (200 if body["ready"] else 503)
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_readyz_answers_503_when_a_dependency_is_down(anonymous, monkeypatch):
    from apps.core import health

    monkeypatch.setitem(health.CHECKS, "broker", lambda: (False, "ConnectionError"))
    response = anonymous.get("/v1/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == {"ok": False, "detail": "ConnectionError"}


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])  # scripts/run serves with DEBUG on
def test_an_unknown_api_path_answers_json_404(integrator, settings, debug):
    settings.DEBUG = debug
    for path in ("/v1/no-such-thing", "/v1/verification/nope/deeper", "/v1/"):
        response = integrator.client.get(path)
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/json")
        assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_an_unexpected_error_under_v1_is_a_json_500_without_a_traceback(integrator, settings, monkeypatch, debug):
    from apps.accounts import views

    settings.DEBUG = debug

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(views, "utc_timestamp", broken)
    response = integrator.client.get("/v1/datetime/utc-now")
    assert response.status_code == 500
    error = {"code": "server_error", "message": "An internal error occurred.", "fields": {}}
    assert response.json() == {"error": error}
    assert b"secret internals" not in response.content and b"Traceback" not in response.content


@pytest.mark.django_db
def test_a_wrong_method_answers_json_405(integrator):
    response = integrator.client.post("/v1/datetime/utc-now", {}, format="json")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.django_db
def test_an_oversized_body_answers_413_before_parsing(integrator, settings):
    body = "x" * (settings.API_MAX_BODY_BYTES + 1)
    response = integrator.client.generic("POST", "/v1/datetime/utc-now", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


def test_an_unexpected_exception_answers_json_500(integrator, monkeypatch):
    from apps.accounts import views

    def boom(self, request):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(views.UtcNowView, "get", boom)
    response = integrator.client.get("/v1/datetime/utc-now")
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "server_error", "message": "An internal error occurred.", "fields": {}}
    }
    assert b"secret internals" not in response.content


@pytest.mark.django_db
def test_swagger_ui_and_schema_are_served_without_a_cdn(anonymous):
    page = anonymous.get("/swagger/")
    assert page.status_code == 200
    assert b"cdn." not in page.content and b"jsdelivr" not in page.content
    schema = anonymous.get("/swagger/schema.json")
    assert schema.status_code == 200


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="the broker is Redis only with REDIS_URL")
def test_the_broker_probe_reuses_one_connection_to_redis(monkeypatch):
    from redis.connection import Connection

    from apps.core import health

    opened: list[object] = []
    connect = Connection._connect

    def counting(self: Connection) -> object:
        opened.append(self)
        return connect(self)

    monkeypatch.setattr(Connection, "_connect", counting)
    monkeypatch.setattr(health, "_brokers", {}, raising=False)
    assert [health.check_broker() for _ in range(10)] == [(True, "redis")] * 10
    assert len(opened) == 1  # the previous probe opened a connection each time
