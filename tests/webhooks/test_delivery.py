"""Deliveries to a real receiver on 127.0.0.1, verified with the official standardwebhooks package."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from apps.audit.models import AuditEvent, AuditEventType
from apps.webhooks import ssrf
from apps.webhooks.delivery import _claim, _finish
from apps.webhooks.event_types import EventType
from apps.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent, WebhookSecret
from apps.webhooks.services import webhook_delivery_redeliver, webhook_event_record, webhook_test_send
from apps.webhooks.signing_secrets import webhook_secret_rotate
from apps.webhooks.tasks import delivery_publish, webhook_deliveries_sweep, webhook_delivery_send
from apps.webhooks.transport import HttpOutcome

from .conftest import SESSION_RESULT, Receiver, Reply, tls_context

COMPLETED = EventType.SESSION_COMPLETED


def record(account, url: str, payload: dict | None = None, event_type: EventType = COMPLETED) -> WebhookDelivery:
    delivery = webhook_event_record(account=account, event_type=event_type, payload=payload or SESSION_RESULT, url=url)
    assert delivery is not None
    return delivery


def verify(account, received) -> dict:
    """What a receiver does: check the signature with its copy of the secret."""
    secret = WebhookSecret.objects.get(account=account).secret
    return Webhook(secret).verify(received.body, received.headers)


def make_due(delivery: WebhookDelivery) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def test_a_completed_session_reaches_the_receiver_signed_per_standard_webhooks(integrator, receiver: Receiver):
    delivery = record(integrator.account, receiver.url)

    assert webhook_delivery_send(delivery_id=delivery.pk) == "delivered"

    [received] = receiver.requests
    body = verify(integrator.account, received)
    assert received.headers["webhook-id"] == delivery.event_id
    assert received.headers["User-Agent"].startswith("Liveproof-Webhooks/")
    assert received.headers["Content-Type"] == "application/json"
    assert body["type"] == COMPLETED
    assert body["id"] == delivery.event_id
    assert body["timestamp"].endswith("Z")
    assert body["event"] == "VerificationCompleted"
    assert body["verificationSessionId"] == SESSION_RESULT["verificationSessionId"]
    assert body["data"] == SESSION_RESULT
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    [attempt] = delivery.attempts.all()
    assert (attempt.number, attempt.status_code, attempt.error) == (1, 200, "")
    assert attempt.response_excerpt == '{"received":true}'


def test_an_expired_session_is_told_apart_by_type_and_still_reaches_seed_receivers(integrator, receiver: Receiver):
    delivery = record(integrator.account, receiver.url, event_type=EventType.SESSION_EXPIRED)
    webhook_delivery_send(delivery_id=delivery.pk)
    body = verify(integrator.account, receiver.requests[0])
    assert (body["type"], body["event"]) == (EventType.SESSION_EXPIRED, "VerificationCompleted")
    assert body["verificationSessionId"] == SESSION_RESULT["verificationSessionId"]


def test_a_selfie_check_event_carries_the_seed_fields_at_the_top_level(integrator, receiver: Receiver):
    check = {"check_id": "c-1", "user_identifier": "user123", "verification_result": {"status": "verified"}}
    delivery = record(integrator.account, receiver.url, payload=check, event_type=EventType.SELFIE_CHECK_COMPLETED)
    webhook_delivery_send(delivery_id=delivery.pk)
    body = verify(integrator.account, receiver.requests[0])
    assert (body["check_id"], body["user_identifier"], body["data"]) == ("c-1", "user123", check)
    assert "event" not in body


@pytest.mark.parametrize("name", ["Session Done", "verification.session.started"])
def test_an_unknown_event_type_is_a_programming_error_and_records_nothing(integrator, receiver: Receiver, name):
    with pytest.raises(ValueError):
        record(integrator.account, receiver.url, event_type=name)
    assert not WebhookEvent.objects.exists()


def test_the_event_types_on_the_wire_are_exactly_the_documented_ones():
    """Receivers match on these strings: renaming one is a breaking change of docs/webhooks.md."""
    page = (Path(__file__).resolve().parents[2] / "docs" / "webhooks.md").read_text()
    documented = re.findall(r"^\| `([a-z_]+\.[a-z._]+)` \|", page, flags=re.MULTILINE)
    assert sorted(documented) == sorted(event.value for event in EventType)


def test_every_retry_carries_the_same_webhook_id_and_a_fresh_valid_signature(integrator, receiver: Receiver):
    receiver.script = [Reply(500), Reply(503)]
    delivery = record(integrator.account, receiver.url)
    for _ in range(3):
        webhook_delivery_send(delivery_id=delivery.pk)
        make_due(delivery)

    assert [r.headers["webhook-id"] for r in receiver.requests] == [delivery.event_id] * 3
    assert len({r.body for r in receiver.requests}) == 1
    for received in receiver.requests:
        verify(integrator.account, received)
    assert WebhookEvent.objects.count() == 1
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert list(delivery.attempts.values_list("status_code", flat=True)) == [500, 503, 200]


@pytest.mark.parametrize("status", [400, 401, 404, 408, 429, 500, 502, 503, 504])
def test_other_4xx_and_5xx_answers_are_retried_after_about_five_seconds(integrator, receiver: Receiver, status: int):
    receiver.default = Reply(status, body=b"nope")
    delivery = record(integrator.account, receiver.url)
    before = timezone.now()

    assert webhook_delivery_send(delivery_id=delivery.pk) == "retrying"
    after = timezone.now()

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.PENDING
    # 5 s +-10 % counted from the answer, which arrives between `before` and `after` (later on a busy machine).
    assert before + timedelta(seconds=4.5) <= delivery.next_attempt_at <= after + timedelta(seconds=5.5)
    attempt = delivery.attempts.get()
    assert (attempt.status_code, attempt.error, attempt.response_excerpt) == (status, f"HTTP {status}", "nope")


def test_a_refused_connection_is_retried_and_recorded(integrator, closed_port_url: str):
    delivery = record(integrator.account, closed_port_url)
    assert webhook_delivery_send(delivery_id=delivery.pk) == "retrying"
    attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert attempt.status_code is None
    assert "ConnectionRefused" in attempt.error


def test_a_410_disables_the_endpoint_and_stops_later_events(integrator, receiver: Receiver):
    receiver.default = Reply(410)
    first = record(integrator.account, receiver.url)

    assert webhook_delivery_send(delivery_id=first.pk) == "failed"

    endpoint = WebhookEndpoint.objects.get(url=receiver.url)
    assert endpoint.disabled
    disabled = AuditEvent.objects.get(type=AuditEventType.WEBHOOK_ENDPOINT_DISABLED)
    assert (disabled.account_id, disabled.actor, disabled.subject_id) == (
        integrator.account.pk,
        "system",
        str(endpoint.pk),
    )
    assert disabled.details == {"url": receiver.url, "reason": "The receiver answered 410 Gone."}
    second = record(integrator.account, receiver.url)
    assert second.status == WebhookDelivery.Status.FAILED
    assert webhook_delivery_send(delivery_id=second.pk) == "skipped"
    assert len(receiver.requests) == 1


def test_a_redirect_is_not_followed_and_counts_as_a_failure(integrator, receiver: Receiver):
    elsewhere = Receiver()
    try:
        receiver.default = Reply(307, headers={"Location": elsewhere.url})
        delivery = record(integrator.account, receiver.url)

        assert webhook_delivery_send(delivery_id=delivery.pk) == "retrying"

        assert elsewhere.requests == []
        assert "redirects are not followed" in delivery.attempts.get().error
    finally:
        elsewhere.close()


def test_a_receiver_slower_than_the_timeout_is_cut_off_and_retried(integrator, receiver: Receiver, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.4
    receiver.default = Reply(200, delay=5)
    delivery = record(integrator.account, receiver.url)

    assert webhook_delivery_send(delivery_id=delivery.pk) == "retrying"

    attempt = delivery.attempts.get()
    assert "timed out" in attempt.error
    assert 350 <= attempt.duration_ms < 3000


def test_a_receiver_trickling_its_answer_cannot_hold_the_worker_past_the_deadline(integrator, receiver, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    receiver.default = Reply(200, drip=0.05)
    delivery = record(integrator.account, receiver.url)

    assert webhook_delivery_send(delivery_id=delivery.pk) == "retrying"

    attempt = delivery.attempts.get()
    assert "timed out" in attempt.error
    assert attempt.duration_ms < 3000  # the receiver would trickle for over an hour


def test_a_slow_receiver_within_the_timeout_is_delivered(integrator, receiver: Receiver, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 3.0
    receiver.default = Reply(200, delay=0.3)
    delivery = record(integrator.account, receiver.url)

    assert webhook_delivery_send(delivery_id=delivery.pk) == "delivered"
    assert delivery.attempts.get().duration_ms >= 300


def test_after_the_last_scheduled_retry_the_delivery_is_marked_failed(integrator, receiver: Receiver, settings):
    settings.WEBHOOK_RETRY_SCHEDULE_SECONDS = [1, 2]
    receiver.default = Reply(500)
    delivery = record(integrator.account, receiver.url)
    results = []
    for _ in range(4):
        results.append(webhook_delivery_send(delivery_id=delivery.pk))
        make_due(delivery)

    assert results == ["retrying", "retrying", "failed", "skipped"]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == (WebhookDelivery.Status.FAILED, 3)


def test_during_a_rotation_both_secrets_verify_and_afterwards_only_the_new_one(integrator, receiver: Receiver):
    old = record(integrator.account, receiver.url)  # creates the first secret
    old_secret = WebhookSecret.objects.get(account=integrator.account).secret
    new_secret = webhook_secret_rotate(account=integrator.account).secret
    webhook_delivery_send(delivery_id=old.pk)

    during = receiver.requests[0]
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    Webhook(old_secret).verify(during.body, during.headers)
    Webhook(new_secret).verify(during.body, during.headers)

    WebhookSecret.objects.filter(account=integrator.account).update(
        previous_expires_at=timezone.now() - timedelta(seconds=1)
    )
    later = record(integrator.account, receiver.url)
    webhook_delivery_send(delivery_id=later.pk)
    after = receiver.requests[1]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    Webhook(new_secret).verify(after.body, after.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old_secret).verify(after.body, after.headers)


def test_accounts_sign_with_their_own_secrets(integrator, other_integrator, receiver: Receiver):
    delivery = record(other_integrator.account, receiver.url)
    webhook_delivery_send(delivery_id=delivery.pk)
    record(integrator.account, receiver.url)  # gives the first account a secret too
    with pytest.raises(WebhookVerificationError):
        verify(integrator.account, receiver.requests[0])
    verify(other_integrator.account, receiver.requests[0])


def test_an_event_in_a_rolled_back_transaction_is_never_recorded_or_sent(
    integrator, receiver: Receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            record(integrator.account, receiver.url)
            raise RuntimeError("the session change failed")
    assert callbacks == []
    assert WebhookEvent.objects.count() == 0
    assert receiver.requests == []


def test_a_committed_event_is_sent_by_the_task_after_commit(
    integrator, receiver: Receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        delivery = record(integrator.account, receiver.url)
        assert receiver.requests == []  # nothing leaves before the commit

    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED


def test_a_duplicated_task_message_sends_once(integrator, receiver: Receiver):
    delivery = record(integrator.account, receiver.url)
    assert webhook_delivery_send(delivery_id=delivery.pk) == "delivered"
    assert webhook_delivery_send(delivery_id=delivery.pk) == "skipped"
    assert len(receiver.requests) == 1


def test_no_url_means_no_event(integrator):
    assert webhook_event_record(account=integrator.account, event_type=COMPLETED, payload={}, url="") is None
    assert webhook_event_record(account=integrator.account, event_type=COMPLETED, payload={}, url=None) is None
    assert WebhookEvent.objects.count() == 0


def test_the_payload_carries_no_images_or_binary_data(integrator, receiver: Receiver):
    payload = SESSION_RESULT | {
        "icaoPhoto": "data:image/jpeg;base64,/9j/4AAQ",
        "selfie": "A" * 50_000,
        "frames": [b"\xff\xd8"],
    }
    delivery = record(integrator.account, receiver.url, payload=payload)
    webhook_delivery_send(delivery_id=delivery.pk)
    body = verify(integrator.account, receiver.requests[0])
    assert body["data"] == SESSION_RESULT | {"frames": []}
    assert len(receiver.requests[0].body) < 2000


def test_the_connection_goes_to_the_checked_address_with_the_real_hostname(integrator, receiver, monkeypatch):
    lookups = []

    def fake_resolve(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    monkeypatch.setattr(ssrf, "resolve", fake_resolve)
    delivery = record(integrator.account, f"http://hooks.example.com:{receiver.port}/in?x=1")

    assert webhook_delivery_send(delivery_id=delivery.pk) == "delivered"
    assert lookups == ["hooks.example.com"]  # resolved once, and that answer was used
    assert receiver.requests[0].headers["Host"] == f"hooks.example.com:{receiver.port}"
    assert receiver.requests[0].path == "/in?x=1"


def test_a_host_that_now_resolves_to_a_private_address_is_refused_at_delivery(integrator, receiver, monkeypatch):
    monkeypatch.setattr(ssrf, "resolve", lambda host, port: ["127.0.0.1", "10.0.0.7"])
    delivery = record(integrator.account, f"http://rebind.example.com:{receiver.port}/")

    assert webhook_delivery_send(delivery_id=delivery.pk) == "retrying"
    assert receiver.requests == []
    assert "private address" in delivery.attempts.get().error


def test_an_unresolvable_host_is_retried_with_a_dns_error(integrator, monkeypatch):
    def no_dns(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    monkeypatch.setattr(ssrf, "resolve", no_dns)
    delivery = record(integrator.account, "http://your-server.example.com/webhook")
    assert webhook_delivery_send(delivery_id=delivery.pk) == "retrying"
    assert delivery.attempts.get().error.startswith("DNS error")


def test_the_sweep_resends_a_delivery_whose_worker_died_mid_request(integrator, receiver: Receiver, settings):
    settings.WEBHOOK_LEASE_SECONDS = 2
    delivery = record(integrator.account, receiver.url)
    # A worker claimed it and died: the lease is held, the message consumed.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        leased_until=timezone.now() + timedelta(seconds=30), enqueued_at=None, attempt_count=1
    )
    assert webhook_deliveries_sweep() == 0  # in flight: left alone

    WebhookDelivery.objects.filter(pk=delivery.pk).update(leased_until=timezone.now() - timedelta(seconds=1))
    assert webhook_deliveries_sweep() == 1

    [received] = receiver.requests
    assert received.headers["webhook-id"] == delivery.event_id
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == (WebhookDelivery.Status.DELIVERED, 2)


def test_the_sweep_resends_a_due_delivery_whose_message_was_lost(integrator, receiver: Receiver, settings):
    delivery = record(integrator.account, receiver.url)
    assert webhook_deliveries_sweep() == 0  # just enqueued: trust the message for a while
    WebhookDelivery.objects.filter(pk=delivery.pk).update(enqueued_at=timezone.now() - timedelta(minutes=10))

    assert webhook_deliveries_sweep() == 1
    assert len(receiver.requests) == 1


def test_the_sweep_picks_up_a_long_wait_retry_once_it_is_due(integrator, receiver: Receiver, settings):
    settings.WEBHOOK_COUNTDOWN_MAX_SECONDS = 0  # every wait is "long": no Celery countdown, only the sweep
    receiver.script = [Reply(500)]
    delivery = record(integrator.account, receiver.url)
    webhook_delivery_send(delivery_id=delivery.pk)
    assert webhook_deliveries_sweep() == 0  # not due yet

    make_due(delivery)
    assert webhook_deliveries_sweep() == 1
    assert [r.headers["webhook-id"] for r in receiver.requests] == [delivery.event_id] * 2


def test_redelivery_resends_the_same_event_id(integrator, receiver: Receiver, django_capture_on_commit_callbacks):
    delivery = record(integrator.account, receiver.url)
    webhook_delivery_send(delivery_id=delivery.pk)

    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_delivery_redeliver(delivery=delivery)

    assert [r.headers["webhook-id"] for r in receiver.requests] == [delivery.event_id] * 2
    verify(integrator.account, receiver.requests[1])


def test_redelivery_waits_while_a_delivery_is_in_flight(integrator, receiver: Receiver):
    delivery = record(integrator.account, receiver.url)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(leased_until=timezone.now() + timedelta(seconds=30))
    assert webhook_delivery_redeliver(delivery=delivery) is False


def test_a_test_event_is_signed_and_typed_webhook_test(integrator, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        delivery = webhook_test_send(account=integrator.account, url=receiver.url)

    body = verify(integrator.account, receiver.requests[0])
    assert body["type"] == EventType.TEST
    assert body["id"] == delivery.event_id
    assert "event" not in body


def test_a_worker_that_lost_its_lease_keeps_its_attempt_but_not_its_verdict(integrator, receiver: Receiver):
    delivery = record(integrator.account, receiver.url)
    stale_token = _claim(delivery.pk, timezone.now())  # worker A claims, then stalls past its lease
    WebhookDelivery.objects.filter(pk=delivery.pk).update(leased_until=timezone.now() - timedelta(seconds=1))
    assert webhook_delivery_send(delivery_id=delivery.pk) == "delivered"  # worker B

    late = HttpOutcome(status_code=500, error="", excerpt="", duration_ms=12000)
    stale = WebhookDelivery.objects.select_related("event", "endpoint").get(pk=delivery.pk)
    assert _finish(stale, stale_token, timezone.now(), late, publish=delivery_publish) == "skipped"

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert sorted(delivery.attempts.values_list("status_code", flat=True)) == [200, 500]


def test_a_url_with_non_ascii_characters_is_delivered_percent_encoded(integrator, receiver: Receiver):
    delivery = record(integrator.account, receiver.url + "/é?q=ü")
    assert webhook_delivery_send(delivery_id=delivery.pk) == "delivered"
    assert receiver.requests[0].path == "/hook/%C3%A9?q=%C3%BC"


def test_an_unexpected_error_costs_one_attempt_and_keeps_the_retry_schedule(integrator, receiver, monkeypatch):
    import apps.webhooks.delivery as delivery_module

    def broken(delivery):
        raise KeyError("bug")

    monkeypatch.setattr(delivery_module, "_request", broken)
    delivery = record(integrator.account, receiver.url)
    assert webhook_delivery_send(delivery_id=delivery.pk) == "retrying"
    assert delivery.attempts.get().error == "Internal error: KeyError"


def test_a_binary_answer_is_recorded_as_a_readable_excerpt(integrator, receiver: Receiver):
    receiver.default = Reply(500, body=b"\x00\xff\xfebinary" * 400)
    delivery = record(integrator.account, receiver.url)
    assert webhook_delivery_send(delivery_id=delivery.pk) == "retrying"
    excerpt = delivery.attempts.get().response_excerpt
    assert "\x00" not in excerpt
    assert "binary" in excerpt
    assert len(excerpt) <= 1024


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
def test_https_goes_to_the_pinned_address_and_verifies_the_certificate_for_the_hostname(
    integrator, monkeypatch, settings, tmp_path
):
    context, cert = tls_context(tmp_path, "hooks.example.test")
    tls_receiver = Receiver(tls=context)
    try:
        settings.WEBHOOK_CA_BUNDLE = str(cert)
        monkeypatch.setattr(ssrf, "resolve", lambda host, port: ["127.0.0.1"])
        good = record(integrator.account, f"https://hooks.example.test:{tls_receiver.port}/hook")
        assert webhook_delivery_send(delivery_id=good.pk) == "delivered"
        assert tls_receiver.requests[0].headers["Host"] == f"hooks.example.test:{tls_receiver.port}"
        verify(integrator.account, tls_receiver.requests[0])

        # The same server, reached under a name its certificate does not cover: refused, and retried.
        wrong = record(integrator.account, f"https://other.example.test:{tls_receiver.port}/hook")
        assert webhook_delivery_send(delivery_id=wrong.pk) == "retrying"
        assert "CERTIFICATE_VERIFY_FAILED" in wrong.attempts.get().error
        assert len(tls_receiver.requests) == 1
    finally:
        tls_receiver.close()


def test_old_events_are_purged_with_their_deliveries_but_pending_ones_are_kept(integrator, receiver: Receiver):
    from apps.webhooks.delivery import webhook_events_purge

    done = record(integrator.account, receiver.url)
    webhook_delivery_send(delivery_id=done.pk)
    waiting = record(integrator.account, receiver.url)
    fresh = record(integrator.account, receiver.url)
    WebhookEvent.objects.filter(id__in=[done.event_id, waiting.event_id]).update(
        created_at=timezone.now() - timedelta(days=31)
    )

    webhook_events_purge()

    assert set(WebhookEvent.objects.values_list("id", flat=True)) == {waiting.event_id, fresh.event_id}
    assert not WebhookAttempt.objects.filter(delivery_id=done.pk).exists()


@pytest.fixture
def broker_down(closed_port_url: str) -> Iterator[None]:
    """Celery publishes to a real Redis URL where nothing listens, as while Redis restarts."""
    from config.celery import app

    saved = (app.conf.task_always_eager, app.conf.broker_url)
    app.conf.task_always_eager = False
    app.conf.broker_url = closed_port_url.replace("http://", "redis://").replace("/hook", "/0")
    app.amqp._producer_pool = None  # built lazily from broker_url; rebuilt on both sides of the outage
    app._pool = None
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.broker_url = saved
        app.amqp._producer_pool = None
        app._pool = None


def test_a_broker_outage_at_commit_loses_no_event_and_the_sweep_sends_it(
    integrator, receiver: Receiver, broker_down, django_capture_on_commit_callbacks, caplog
):
    with django_capture_on_commit_callbacks(execute=True):  # the session's commit: publishing fails
        delivery = record(integrator.account, receiver.url)
    assert "the sweep will retry" in caplog.text
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.PENDING and receiver.requests == []

    WebhookDelivery.objects.filter(pk=delivery.pk).update(enqueued_at=timezone.now() - timedelta(minutes=10))
    from config.celery import app

    app.conf.task_always_eager = True  # the broker is back (tasks run here)
    assert webhook_deliveries_sweep() == 1
    assert [r.headers["webhook-id"] for r in receiver.requests] == [delivery.event_id]


def test_a_selfie_check_event_carries_the_004_user_agent(integrator, receiver: Receiver):
    payload = {"check_id": "c1", "user_identifier": "user123", "verification_result": {"status": "verified"}}
    delivery = record(integrator.account, receiver.url, payload, EventType.SELFIE_CHECK_COMPLETED)
    assert webhook_delivery_send(delivery_id=delivery.pk) == "delivered"
    [received] = receiver.requests
    assert received.headers["User-Agent"] == "IdentityVerification/1.0"  # 004, "Webhook Security"
    assert verify(integrator.account, received)["check_id"] == "c1"


def test_with_in_process_tasks_a_retry_goes_out_at_the_first_sweep_after_it_is_due(
    integrator, receiver: Receiver, settings
):
    """The embedded default runs tasks at once, countdown or not: the sweep must not wait for the retry it
    believes is queued (WEBHOOK_REENQUEUE_AFTER_SECONDS), or the 5 s retry comes two minutes late."""
    assert settings.CELERY_TASK_ALWAYS_EAGER
    receiver.script = [Reply(500)]
    delivery = record(integrator.account, receiver.url)
    assert webhook_delivery_send(delivery_id=delivery.pk) == "retrying"
    with time_machine.travel(timezone.now() + timedelta(seconds=6 + settings.WEBHOOK_SWEEP_INTERVAL_SECONDS)):
        webhook_deliveries_sweep()
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED
