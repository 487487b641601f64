"""Two simultaneous openings of a one-time link create exactly one session (real PostgreSQL)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections, transaction
from django.test import Client
from django.utils import timezone

from apps.sessions.models import Session
from apps.signing.models import UsedNonce
from tests.conftest import make_integrator, require_postgres
from tests.signing.helpers import signed_link, verification_create

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _open(path: str, barrier: threading.Barrier) -> int:
    try:
        barrier.wait(timeout=10)
        return Client().get(path).status_code
    finally:
        connection.close()


def test_simultaneous_openings_of_a_nonce_link_create_exactly_one_session():
    require_postgres()
    integrator = make_integrator("Acme")
    vid = verification_create(integrator)
    for openers in (2, 3, 4):
        path = f"/v/{vid}?{signed_link(integrator, 'userId=1', enableNonce=True)}"
        barrier = threading.Barrier(openers)
        with ThreadPoolExecutor(openers) as pool:
            statuses = sorted(pool.map(_open, [path] * openers, [barrier] * openers))
        assert statuses == [302] + [410] * (openers - 1)
    assert Session.objects.count() == 3
    assert UsedNonce.objects.filter(session_id__isnull=False).count() == 3


def _someone_waits_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return cursor.fetchone()[0] > 0


def test_an_opening_that_raced_past_the_read_check_loses_at_the_unique_constraint():
    """The second opener saw the nonce unused, then waits on the first one's insert and is refused."""
    require_postgres()
    integrator = make_integrator("Acme")
    vid = verification_create(integrator)
    query = signed_link(integrator, "userId=1", enableNonce=True)
    nonce = query.split("reNonce=")[1].split("&")[0]
    inserted, release = threading.Event(), threading.Event()

    def first_opener_holding_its_transaction() -> None:
        try:
            with transaction.atomic():
                UsedNonce.objects.create(account=integrator.account, nonce=nonce, expires_at=timezone.now())
                inserted.set()
                release.wait(timeout=10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=first_opener_holding_its_transaction)
    holder.start()
    assert inserted.wait(timeout=10)
    with ThreadPoolExecutor(1) as pool:
        second = pool.submit(lambda: _open(f"/v/{vid}?{query}", threading.Barrier(1)))
        # Wait until the second opener is blocked on the uncommitted row, then let the first commit.
        deadline = time.monotonic() + 10
        while not _someone_waits_on_a_lock() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _someone_waits_on_a_lock(), "the second opener never reached the nonce insert"
        release.set()
        assert second.result(timeout=20) == 410
    holder.join(timeout=10)
    assert not Session.objects.exists()
