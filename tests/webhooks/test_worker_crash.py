"""Exactly one event per id from the receiver's side, with a real Celery worker on Redis killed mid-delivery."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection
from standardwebhooks import Webhook

from apps.accounts.models import Account
from apps.webhooks import tasks as tasks_module
from apps.webhooks.event_types import EventType
from apps.webhooks.models import WebhookDelivery, WebhookEvent, WebhookSecret
from apps.webhooks.services import webhook_event_record
from tests.conftest import require_postgres, require_redis

from .conftest import SESSION_RESULT, Receiver, Reply

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _start_worker(redis_url: str, log: Path) -> subprocess.Popen:
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": redis_url,
        "ALLOW_HTTP_OUTBOUND": "true",
        "WEBHOOK_ALLOW_LOOPBACK": "true",  # the test receiver listens on 127.0.0.1
        "WEBHOOK_TIMEOUT_SECONDS": "3",
        "WEBHOOK_LEASE_SECONDS": "4",
    }
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "webhooks", "--pool=solo", "-l", "info"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"crash-{uuid.uuid4().hex[:8]}@%h"]
    return subprocess.Popen(
        command, cwd=settings.BASE_DIR, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
    )


def _kill(worker: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    try:
        os.killpg(worker.pid, sig)
    except ProcessLookupError:
        return
    worker.wait(10)


def _wait_for(condition, seconds: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}; worker log:\n{log.read_text()[-3000:]}")


def test_a_worker_killed_mid_delivery_leads_to_a_redelivery_with_the_same_webhook_id(
    transactional_db, receiver: Receiver, monkeypatch, tmp_path: Path
):
    redis_url = require_redis()
    require_postgres()
    broker = Celery(broker=redis_url)
    # Tests run tasks eagerly; here the messages must go through the real Redis to the real workers.
    monkeypatch.setattr(
        tasks_module,
        "delivery_publish",
        lambda delivery_id, countdown=None: broker.send_task(
            "apps.webhooks.tasks.webhook_delivery_send", args=[delivery_id], queue="webhooks"
        ),
    )
    release = threading.Event()
    receiver.script = [Reply(200, block=release)]  # the first request hangs until the worker is dead
    account = Account.objects.create(name="Crash Test")
    log = tmp_path / "worker.log"
    first = _start_worker(redis_url, log)
    second = None
    try:
        delivery = webhook_event_record(
            account=account, event_type=EventType.SESSION_COMPLETED, payload=SESSION_RESULT, url=receiver.url
        )
        assert delivery is not None
        _wait_for(receiver.arrived.is_set, 60, "the first attempt", log)
        _kill(first)  # SIGKILL mid-request: no attempt row, no status change, the lease still held
        release.set()
        assert WebhookDelivery.objects.get(pk=delivery.pk).status == WebhookDelivery.Status.PENDING

        second = _start_worker(redis_url, log)

        def delivered() -> bool:
            tasks_module.webhook_deliveries_sweep()  # what beat does every few seconds
            return WebhookDelivery.objects.get(pk=delivery.pk).status == WebhookDelivery.Status.DELIVERED

        _wait_for(delivered, 60, "the redelivery", log)
    finally:
        release.set()
        _kill(first)
        if second is not None:
            _kill(second, signal.SIGTERM)

    secret = WebhookSecret.objects.get(account=account).secret
    assert len(receiver.requests) == 2
    assert [r.headers["webhook-id"] for r in receiver.requests] == [delivery.event_id] * 2
    bodies = [Webhook(secret).verify(r.body, r.headers) for r in receiver.requests]
    assert bodies[0] == bodies[1]
    assert WebhookEvent.objects.count() == 1
    delivery.refresh_from_db()
    assert delivery.attempt_count == 2
    assert list(delivery.attempts.values_list("number", "status_code")) == [(2, 200)]
