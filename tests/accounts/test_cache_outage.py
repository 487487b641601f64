"""With the shared cache (Redis) unreachable, an API key still authenticates: every cache use on the
authenticated request path fails open (the failed-login limits, the keys version, the audit's address check)."""

from __future__ import annotations

import socket

import pytest
from django.test import override_settings

from apps.audit.models import AuditEvent, AuditEventType

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens once the probe closes


def test_an_api_request_is_answered_while_redis_is_down(integrator):
    down = {
        "default": {"BACKEND": "apps.core.cache.SharedRedisCache", "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0"}
    }
    with override_settings(CACHES=down):
        response = integrator.client.get("/v1/verification/get-session-result", {"verificationSessionId": "x"})
        again = integrator.client.get("/v1/verification/get-session-result", {"verificationSessionId": "x"})
    # Authenticated (the 400 of a malformed id, not 401 or 500), twice, and the new address recorded once.
    assert response.status_code == again.status_code == 400, response.content
    assert AuditEvent.objects.filter(type=AuditEventType.API_KEY_NEW_ADDRESS).count() == 1
