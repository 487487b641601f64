"""The integrator API for the signing secret and test events, the admin, and the settings guards."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from standardwebhooks import Webhook

from apps.audit.models import AuditEvent, AuditEventType
from apps.webhooks.delivery import retry_delay_seconds
from apps.webhooks.event_types import EventType
from apps.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from apps.webhooks.services import webhook_event_record
from apps.webhooks.tasks import webhook_delivery_send

from .conftest import SESSION_RESULT, Receiver, Reply

COMPLETED = EventType.SESSION_COMPLETED
DOCUMENTED_SCHEDULE = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]


def test_the_secret_is_created_on_first_read_and_stays_the_same(integrator):
    first = integrator.client.get("/v1/webhooks/secret")
    second = integrator.client.get("/v1/webhooks/secret")
    assert first.status_code == 200
    assert first.json()["secret"].startswith("whsec_")
    assert first.json() == second.json()
    assert first.json()["previousSecret"] is None


def test_each_account_has_its_own_secret(integrator, other_integrator):
    mine = integrator.client.get("/v1/webhooks/secret").json()["secret"]
    theirs = other_integrator.client.get("/v1/webhooks/secret").json()["secret"]
    assert mine != theirs


def test_rotation_returns_the_new_secret_and_keeps_the_old_one_for_the_overlap(integrator):
    old = integrator.client.get("/v1/webhooks/secret").json()["secret"]
    rotated = integrator.client.post("/v1/webhooks/secret/rotate")
    assert rotated.status_code == 200
    body = rotated.json()
    assert body["secret"] != old and body["secret"].startswith("whsec_")
    assert body["previousSecret"] == old
    assert body["previousSecretExpiresAt"].endswith("Z")


def test_the_previous_secret_is_no_longer_shown_once_its_overlap_is_over(integrator):
    """It stopped signing after the overlap (24 h) but GET kept returning it, with an expiry in the past."""
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    integrator.client.get("/v1/webhooks/secret")
    integrator.client.post("/v1/webhooks/secret/rotate")
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        body = integrator.client.get("/v1/webhooks/secret").json()
    assert body["previousSecret"] is None and body["previousSecretExpiresAt"] is None, body


def test_the_secret_api_needs_an_api_key(anonymous):
    response = anonymous.get("/v1/webhooks/secret")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_a_test_event_goes_to_the_given_url_signed(integrator, receiver: Receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = integrator.client.post("/v1/webhooks/test", {"url": receiver.url}, format="json")
    assert response.status_code == 200
    secret = integrator.client.get("/v1/webhooks/secret").json()["secret"]
    body = Webhook(secret).verify(receiver.requests[0].body, receiver.requests[0].headers)
    assert (body["type"], body["id"]) == (EventType.TEST, response.json()["eventId"])


@pytest.mark.parametrize("url", ["https://169.254.169.254/latest", "gopher://x", "not a url", ""])
def test_a_test_event_to_a_refused_url_is_a_400_naming_the_field(integrator, url: str):
    response = integrator.client.post("/v1/webhooks/test", {"url": url}, format="json")
    assert response.status_code == 400
    assert "url" in response.json()["error"]["fields"]
    assert WebhookEvent.objects.count() == 0


def test_the_retry_waits_follow_the_documented_schedule_with_jitter():
    assert settings.WEBHOOK_RETRY_SCHEDULE_SECONDS == DOCUMENTED_SCHEDULE
    for failures, wait in enumerate(DOCUMENTED_SCHEDULE, start=1):
        delays = {retry_delay_seconds(failures=failures) for _ in range(20)}
        assert all(0.9 * wait <= d <= 1.1 * wait for d in delays)
        assert len(delays) > 1  # jittered, so retries of many deliveries do not arrive together
    assert retry_delay_seconds(failures=len(DOCUMENTED_SCHEDULE) + 1) is None


def test_beat_runs_the_sweep_on_the_webhooks_queue():
    entry = settings.CELERY_BEAT_SCHEDULE["webhooks-sweep"]
    assert entry["task"] == "apps.webhooks.tasks.webhook_deliveries_sweep"
    assert entry["schedule"] <= 60
    from config.celery import app

    app.loader.import_default_modules()
    ours = [e["task"] for name, e in settings.CELERY_BEAT_SCHEDULE.items() if name.startswith("webhooks-")]
    assert "apps.webhooks.tasks.webhook_events_purge" in ours
    assert all(task in app.tasks for task in ours)


def record(account, url: str) -> WebhookDelivery:
    return webhook_event_record(account=account, event_type=COMPLETED, payload=SESSION_RESULT, url=url)


def _settings_import(module: str, **env: str) -> subprocess.CompletedProcess:
    environment = os.environ | {"DJANGO_SETTINGS_MODULE": module, "SECRET_KEY": "x" * 50} | env
    environment.pop("DEBUG", None)
    return subprocess.run(
        [sys.executable, "-c", "import importlib, os; importlib.import_module(os.environ['DJANGO_SETTINGS_MODULE'])"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_settings_refuse_the_test_only_loopback_switch():
    result = _settings_import("config.settings.production", WEBHOOK_ALLOW_LOOPBACK="true")
    assert result.returncode != 0
    assert "WEBHOOK_ALLOW_LOOPBACK" in result.stderr


def test_a_malformed_retry_schedule_fails_at_start_up():
    result = _settings_import("config.settings.base", WEBHOOK_RETRY_SCHEDULE_SECONDS="5,soon")
    assert result.returncode != 0
    assert "WEBHOOK_RETRY_SCHEDULE_SECONDS is malformed" in result.stderr


@pytest.fixture
def admin_client(db) -> Client:
    user = User.objects.create_superuser("admin", "admin@example.com", "pw")
    client = Client()
    client.force_login(user)
    return client


def test_admin_redeliver_resends_the_same_event(
    admin_client, integrator, receiver: Receiver, django_capture_on_commit_callbacks
):
    receiver.default = Reply(500)
    delivery = webhook_event_record(
        account=integrator.account,
        event_type=EventType.SESSION_COMPLETED,
        payload=SESSION_RESULT,
        url=receiver.url,
    )
    webhook_delivery_send(delivery_id=delivery.pk)
    receiver.default = Reply(200)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/webhooks/webhookdelivery/", {"action": "redeliver", "_selected_action": [delivery.pk]}
        )

    assert response.status_code == 302
    assert [r.headers["webhook-id"] for r in receiver.requests] == [delivery.event_id] * 2
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    # The operator's action is in the account's audit trail, under the operator's name.
    event = AuditEvent.objects.get(type=AuditEventType.WEBHOOK_REDELIVERED)
    assert (event.account_id, event.actor, event.subject_id) == (integrator.account.pk, "admin:admin", str(delivery.pk))
    assert event.details["eventId"] == delivery.event_id


def test_admin_sends_a_test_event_to_an_endpoint(
    admin_client, integrator, receiver: Receiver, django_capture_on_commit_callbacks
):
    endpoint = WebhookEndpoint.objects.create(account=integrator.account, url=receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            "/admin/webhooks/webhookendpoint/", {"action": "send_test_event", "_selected_action": [endpoint.pk]}
        )
    assert len(receiver.requests) == 1
    assert WebhookEvent.objects.get().type == EventType.TEST
    event = AuditEvent.objects.get(type=AuditEventType.WEBHOOK_TEST_SENT)
    assert (event.account_id, event.actor, event.subject_id) == (integrator.account.pk, "admin:admin", str(endpoint.pk))
    assert event.details == {"url": receiver.url, "eventId": WebhookEvent.objects.get().id}


def test_admin_disabling_and_enabling_an_endpoint_is_audited_once_each(admin_client, integrator):
    endpoint = WebhookEndpoint.objects.create(account=integrator.account, url="https://hooks.example/in")
    for action in ("disable", "disable", "enable", "enable"):  # the second of each changes nothing
        response = admin_client.post(
            "/admin/webhooks/webhookendpoint/", {"action": action, "_selected_action": [endpoint.pk]}
        )
        assert response.status_code == 302
    events = list(AuditEvent.objects.filter(subject_type="webhookEndpoint").order_by("occurred_at", "id"))
    assert [(e.type, e.actor, e.subject_id) for e in events] == [
        (AuditEventType.WEBHOOK_ENDPOINT_DISABLED, "admin:admin", str(endpoint.pk)),
        (AuditEventType.WEBHOOK_ENDPOINT_ENABLED, "admin:admin", str(endpoint.pk)),
    ]
    assert events[0].details == {"url": endpoint.url, "reason": "Disabled by admin in the admin."}


def test_admin_lists_deliveries_and_attempts_of_one_session(admin_client, integrator, receiver: Receiver):
    delivery = webhook_event_record(
        account=integrator.account,
        event_type=EventType.SESSION_COMPLETED,
        payload=SESSION_RESULT,
        url=receiver.url,
    )
    webhook_delivery_send(delivery_id=delivery.pk)
    other = webhook_event_record(
        account=integrator.account,
        event_type=EventType.SESSION_COMPLETED,
        payload=SESSION_RESULT | {"verificationSessionId": "0b5e1b4e-0000-4000-8000-000000000000"},
        url=receiver.url,
    )

    page = admin_client.get(
        "/admin/webhooks/webhookdelivery/", {"event__session_id": SESSION_RESULT["verificationSessionId"]}
    )
    assert page.status_code == 200
    assert delivery.event_id in page.content.decode()
    assert other.event_id not in page.content.decode()

    detail = admin_client.get(f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/")
    assert detail.status_code == 200
    assert "received" in detail.content.decode()  # the attempt's response excerpt

    per_endpoint = admin_client.get("/admin/webhooks/webhookdelivery/", {"endpoint__id__exact": delivery.endpoint_id})
    assert per_endpoint.status_code == 200
    assert other.event_id in per_endpoint.content.decode()


def test_the_sweep_command_sends_due_deliveries_without_beat(integrator, receiver: Receiver):
    from django.core.management import call_command

    delivery = record(integrator.account, receiver.url)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(enqueued_at=None)  # its message was lost

    call_command("webhooks_sweep")

    assert [r.headers["webhook-id"] for r in receiver.requests] == [delivery.event_id]


def test_a_publishable_key_cannot_read_the_secret(integrator):
    from rest_framework.test import APIClient

    from apps.accounts.services import api_key_create

    publishable = api_key_create(account=integrator.account, kind="publishable").plaintext
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"ApiKey {publishable}")
    assert client.get("/v1/webhooks/secret").status_code == 401
    assert client.post("/v1/webhooks/secret/rotate").status_code == 401


def test_admin_endpoint_page_links_to_its_deliveries(admin_client, integrator, receiver: Receiver):
    delivery = record(integrator.account, receiver.url)
    page = admin_client.get(f"/admin/webhooks/webhookendpoint/{delivery.endpoint_id}/change/")
    assert page.status_code == 200
    assert f"endpoint__id__exact={delivery.endpoint_id}" in page.content.decode()
