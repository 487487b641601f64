"""The embedded default's SQLite: a transaction that reads, then writes, while another connection commits.

A browser test's hand-off once answered 500 on the embedded default: ``session_handoff_redeem`` reads the code
and then marks it used, in one transaction, and SQLite refused the write at once with "database is locked"
while another connection was committing (a deferred transaction holding a read lock cannot wait for the write
lock: that would deadlock). ``SQLITE_OPTIONS`` begins every transaction with the write lock taken, waiting for it.
Real SQLite files, two real connections.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import OperationalError, connections, transaction


def _read_then_write_while_another_commits(tmp_path: Path, options: dict) -> tuple[list[str], int]:
    alias = f"sqlite_writers_{len(list(tmp_path.iterdir()))}_{id(options)}"
    connections.settings[alias] = {
        **connections.settings["default"],
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(tmp_path / f"{alias}.sqlite3"),
        "OPTIONS": options,
    }
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("CREATE TABLE code (id INTEGER PRIMARY KEY, used INTEGER)")
            cursor.execute("INSERT INTO code VALUES (1, 0)")
        connections[alias].close()
        errors: list[str] = []
        writing = threading.Event()

        def other_writer() -> None:
            with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
                cursor.execute("UPDATE code SET used = used + 1 WHERE id = 1")
                writing.set()
                time.sleep(0.3)
            connections[alias].close()

        def redeem() -> None:  # what session_handoff_redeem does: read the row, then mark it
            writing.wait(5)
            try:
                with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
                    cursor.execute("SELECT used FROM code WHERE id = 1")
                    cursor.fetchall()
                    time.sleep(0.1)
                    cursor.execute("UPDATE code SET used = used + 10 WHERE id = 1")
            except OperationalError as exc:
                errors.append(str(exc))
            connections[alias].close()

        threads = [threading.Thread(target=redeem), threading.Thread(target=other_writer)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT used FROM code WHERE id = 1")
            (used,) = cursor.fetchone()
        return errors, used
    finally:
        connections[alias].close()
        del connections.settings[alias]


def test_a_transaction_that_reads_then_writes_waits_for_another_writer_instead_of_failing(
    tmp_path: Path, django_db_blocker
) -> None:
    with django_db_blocker.unblock():  # its own SQLite files, not the test database
        errors, used = _read_then_write_while_another_commits(tmp_path, dict(settings.SQLITE_OPTIONS))
    assert errors == []
    assert used == 11  # both writes landed


@pytest.mark.parametrize("options", [{"timeout": 20}], ids=["timeout-only"])
def test_without_taking_the_lock_at_the_start_sqlite_refuses_at_once(
    tmp_path: Path, options: dict, django_db_blocker
) -> None:
    """What the settings guard against, shown on the same SQLite: the timeout alone does not help."""
    started = time.monotonic()
    with django_db_blocker.unblock():
        errors, used = _read_then_write_while_another_commits(tmp_path, options)
    assert errors == ["database is locked"] and used == 1
    assert time.monotonic() - started < 10  # refused, not waited for
