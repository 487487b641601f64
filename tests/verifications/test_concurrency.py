"""Racing writes of the same name on PostgreSQL: one row, never a 500."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from apps.core.errors import ApplicationError
from apps.verifications.models import VerificationConfig
from apps.verifications.services import verification_create, verification_create_or_update

from ..conftest import require_postgres
from .conftest import seed_body

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(target: Any, count: int = 4) -> list[Any]:
    barrier = threading.Barrier(count)
    outcomes: list[Any] = []

    def run() -> None:
        barrier.wait()
        try:
            outcomes.append(target())
        except ApplicationError as exc:
            outcomes.append(exc.status)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(outcomes) == count, "a writer crashed instead of answering"
    return outcomes


def test_racing_create_or_update_calls_create_one_config_and_update_it(integrator):
    require_postgres()
    body = seed_body("create_request")

    outcomes = race(
        lambda: verification_create_or_update(
            account=integrator.account, name=body["name"], verification_config=body["verificationConfig"]
        )
    )

    assert sorted(was_created for _, was_created in outcomes) == [False, False, False, True]
    assert len({verification.id for verification, _ in outcomes}) == 1
    assert VerificationConfig.objects.filter(account=integrator.account).count() == 1


def test_racing_creates_of_one_name_give_one_config_and_409s(integrator):
    require_postgres()
    body = seed_body("create_request")

    outcomes = race(
        lambda: verification_create(
            account=integrator.account, name=body["name"], verification_config=body["verificationConfig"]
        )
    )

    assert sorted(o for o in outcomes if isinstance(o, int)) == [409, 409, 409]
    assert VerificationConfig.objects.filter(account=integrator.account).count() == 1
