"""Admission control: with CAPTURE_MAX_ACTIVE set, a new session waits (503, Retry-After) while the workers are full."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from apps.sessions.models import Session

pytestmark = pytest.mark.django_db

BODY = {"verifierConfigs": {"liveness": {"type": "Verification", "challengeType": "Passive"}}}


def create(client):
    return client.post("/v1/verification/create-session", BODY, format="json")


@override_settings(CAPTURE_MAX_ACTIVE=2, CAPTURE_ADMISSION_RETRY_AFTER_SECONDS=4)
def test_a_full_service_answers_503_with_retry_after_and_creates_nothing(integrator):
    assert create(integrator.client).status_code == 200
    assert create(integrator.client).status_code == 200
    refused = create(integrator.client)
    assert refused.status_code == 503
    assert refused["Retry-After"] == "4"
    assert refused.json()["error"]["code"] == "unavailable"
    assert Session.objects.count() == 2


@override_settings(CAPTURE_MAX_ACTIVE=1)
def test_a_finished_or_stale_capture_frees_its_slot(integrator):
    first = Session.objects.get(id=create(integrator.client).json()["verificationSessionId"])
    assert create(integrator.client).status_code == 503
    first.status = Session.Status.COMPLETED
    first.save(update_fields=["status"])
    second = Session.objects.get(id=create(integrator.client).json()["verificationSessionId"])
    # Connected and capturing: it holds the slot ...
    second.status = Session.Status.IN_PROGRESS
    second.attempt_started_at = timezone.now()
    second.save(update_fields=["status", "attempt_started_at"])
    assert create(integrator.client).status_code == 503
    # ... until its attempt is older than any capture runs (the user walked away with the page open).
    second.attempt_started_at = timezone.now() - timedelta(minutes=5)
    second.save(update_fields=["status", "attempt_started_at"])
    assert create(integrator.client).status_code == 200


@override_settings(CAPTURE_MAX_ACTIVE=1, CAPTURE_ADMISSION_RESERVE_SECONDS=20)
def test_a_created_session_reserves_its_slot_only_for_a_while(integrator):
    created = Session.objects.get(id=create(integrator.client).json()["verificationSessionId"])
    assert create(integrator.client).status_code == 503
    Session.objects.filter(id=created.id).update(created_at=timezone.now() - timedelta(seconds=30))
    assert create(integrator.client).status_code == 200


@override_settings(CAPTURE_MAX_ACTIVE=1)
def test_a_malformed_body_is_a_400_even_when_full(integrator):
    assert create(integrator.client).status_code == 200
    bad = integrator.client.post("/v1/verification/create-session", {"verifierConfigs": 3}, format="json")
    assert bad.status_code == 400


def test_no_limit_by_default(integrator):
    for _ in range(5):
        assert create(integrator.client).status_code == 200


@override_settings(CAPTURE_MAX_ACTIVE=1, CAPTURE_ADMISSION_RETRY_AFTER_SECONDS=5)
def test_a_hosted_link_opened_when_full_gets_a_busy_page_and_keeps_its_nonce(integrator):
    from django.test import Client

    from tests.signing.helpers import signed_link, verification_create

    assert create(integrator.client).status_code == 200
    vid = verification_create(integrator)
    query = signed_link(integrator, "userId=1", enableNonce=True)
    busy = Client().get(f"/v/{vid}?{query}")
    assert busy.status_code == 503 and busy["Retry-After"] == "5"
    assert b"The service is busy" in busy.content
    Session.objects.update(status=Session.Status.CANCELLED)
    assert Client().get(f"/v/{vid}?{query}").status_code == 302  # the same one-time link works once there is room


@override_settings(CAPTURE_MAX_ACTIVE=1, DIRECT_SESSIONS_ENABLED=True, DEMO_MODE=True)
def test_the_direct_and_demo_pages_show_a_busy_page_when_full(integrator):
    from django.test import Client

    assert create(integrator.client).status_code == 200
    for path, data in (("/direct/", {"mode": "passive"}), ("/demo/", {"challengeType": "Passive"})):
        busy = Client(REMOTE_ADDR="2001:db8:a11::1").post(path, data)
        assert busy.status_code == 503 and busy["Retry-After"] == "3", path
        assert b"The service is busy" in busy.content
    assert Session.objects.count() == 1


@override_settings(CAPTURE_MAX_ACTIVE=1)
def test_the_ilive_api_answers_503_in_its_error_shape_when_full(integrator):
    from rest_framework.test import APIClient

    from apps.signing.redirects import allowed_redirect_origins_set
    from tests.ilive.helpers import managed

    assert create(integrator.client).status_code == 200
    allowed_redirect_origins_set(account=integrator.account, origins=["https://yourapp.com"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {integrator.key}")
    refused = managed(client)
    assert refused.status_code == 503 and refused["Retry-After"] == "3"
    assert refused.json()["error"]["code"] == "unavailable"


def test_the_schema_states_the_503_of_every_operation_that_creates_a_session(integrator):
    paths = integrator.client.get("/swagger/schema.json").json()["paths"]
    for path in ("/v1/verification/create-session", "/api/v1/managed-session", "/api/v1/session"):
        responses = paths[path]["post"]["responses"]
        assert "503" in responses and "Retry-After" in responses["503"]["description"], path
