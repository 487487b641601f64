"""The sessions area's state changes record exactly one webhook event each, in their own transaction."""

from __future__ import annotations

from standardwebhooks import Webhook

from apps.sessions.services import session_create, session_expire
from apps.webhooks.event_types import EventType
from apps.webhooks.models import WebhookEvent, WebhookSecret

from .conftest import Receiver

LIVENESS = {"liveness": {"type": "Verification", "challengeType": "Balanced"}}


def test_an_expired_session_sends_one_signed_event_with_its_result(
    integrator, receiver: Receiver, django_capture_on_commit_callbacks
):
    session = session_create(
        account=integrator.account,
        body={"verifierConfigs": LIVENESS, "webhookConfig": {"eventCallbackUrl": receiver.url}},
        external_id="corr-1",
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert session_expire(session_id=session.id)
        assert not session_expire(session_id=session.id)  # a second expiry changes nothing and sends nothing

    [received] = receiver.requests
    secret = WebhookSecret.objects.get(account=integrator.account).secret
    body = Webhook(secret).verify(received.body, received.headers)
    assert body["type"] == EventType.SESSION_EXPIRED
    assert body["event"] == "VerificationCompleted"
    assert body["verificationSessionId"] == str(session.id)
    assert body["data"]["verificationResult"] == "Fail"
    assert body["data"]["correlationId"] == "corr-1"
    assert WebhookEvent.objects.get().session_id == session.id


def test_a_session_without_a_webhook_url_records_no_event(integrator):
    session = session_create(account=integrator.account, body={"verifierConfigs": LIVENESS})
    assert session_expire(session_id=session.id)
    assert WebhookEvent.objects.count() == 0
