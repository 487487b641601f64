"""An iLive session's ``webhook_url`` gets 002's body: the session's result, as the result endpoint answers it.

002: "When you provide a webhook_url, iLive POSTs the result when the session completes" (and passive
sessions: "The verdict webhook uses the same format"). The delivery goes through apps/webhooks like every
event: a real HTTP receiver on 127.0.0.1 gets it, signed with the Standard Webhooks headers.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from standardwebhooks import Webhook

from apps.sessions.models import Session
from apps.sessions.services import session_create, session_expire
from apps.webhooks.models import WebhookEvent, WebhookSecret
from tests.webhooks.conftest import Receiver, assert_every_request_verifies

from .helpers import finish, managed

pytestmark = pytest.mark.django_db
# 002's result fields (GET /api/v1/session/{id}/result), and nothing of our event envelope.
RESULT_FIELDS = {
    "session_id", "status", "verdict", "confidence", "mode", "reasons", "challenges", "scores", "attempt",
    "max_attempts", "photo_available", "created_at", "completed_at",
}  # fmt: skip


@pytest.fixture
def receiver(settings) -> Iterator[Receiver]:
    """A local receiver (test-only: http and loopback allowed); every request must verify."""
    settings.ALLOW_HTTP_OUTBOUND = True
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    settings.WEBHOOK_TIMEOUT_SECONDS = 5.0
    r = Receiver()
    yield r
    r.close()
    assert_every_request_verifies(r)


def _verified(integrator, receiver: Receiver) -> tuple[dict, dict[str, str]]:
    [received] = receiver.requests
    secret = WebhookSecret.objects.get(account=integrator.account).secret
    return Webhook(secret).verify(received.body, received.headers), received.headers


@pytest.mark.slow
def test_a_passed_ilive_session_posts_its_result_to_the_webhook_url(
    ilive, integrator, receiver, django_capture_on_commit_callbacks
):
    body = {"redirect_url": "https://yourapp.com/verify/callback", "webhook_url": receiver.url}
    created = managed(ilive, body).json()
    with django_capture_on_commit_callbacks(execute=True):
        finish(Session.objects.get(id=created["session_id"]))
    sent, headers = _verified(integrator, receiver)
    read = APIClient().get(f"/api/v1/session/{created['session_id']}/result", {"token": created["token"]})
    assert read.status_code == 200
    assert sent == read.json()  # exactly what the token reads: fields, names, values
    assert set(sent) == RESULT_FIELDS
    assert sent["session_id"] == created["session_id"] and sent["verdict"] == "pass" and sent["confidence"] >= 0.7
    assert sent["status"] == "completed" and sent["mode"] == "active" and all(sent["challenges"].values())
    event = WebhookEvent.objects.get()
    assert headers["webhook-id"] == event.id and str(event.session_id) == created["session_id"]
    assert headers["User-Agent"].startswith("Liveproof-Webhooks/")


def test_an_expired_passive_ilive_session_posts_a_fail_in_the_same_format(
    ilive, integrator, receiver, django_capture_on_commit_callbacks
):
    created = managed(ilive, {"webhook_url": receiver.url, "mode": "passive"}).json()
    with django_capture_on_commit_callbacks(execute=True):
        assert session_expire(session_id=created["session_id"])
    sent, _ = _verified(integrator, receiver)
    assert set(sent) == RESULT_FIELDS
    assert sent["verdict"] == "fail" and sent["status"] == "expired" and sent["mode"] == "passive"
    assert sent["reasons"] == ["sessionExpired"] and sent["completed_at"].endswith("Z")
    assert sent["completed_at"] <= timezone.now().isoformat().replace("+00:00", "Z")


def test_a_session_of_our_api_on_the_same_account_keeps_our_envelope(
    integrator, receiver, django_capture_on_commit_callbacks
):
    liveness = {"liveness": {"type": "Verification", "challengeType": "Passive"}}
    session = session_create(
        account=integrator.account,
        body={"verifierConfigs": liveness, "webhookConfig": {"eventCallbackUrl": receiver.url}},
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert session_expire(session_id=session.id)
    sent, _ = _verified(integrator, receiver)
    assert sent["type"] == "verification.session.expired" and sent["data"]["verificationSessionId"] == str(session.id)
    assert "verdict" not in sent and "session_id" not in sent
