"""A database check that answers within seconds, also when the database is unreachable (readiness, metrics)."""

from __future__ import annotations

from typing import Any

from django.db import connection

# libpq's connect timeout (it counts 2 s at least); a probe or a scrape gives up after 10 s or less.
DATABASE_CHECK_SECONDS = 2


def database_ping(*, seconds: int = DATABASE_CHECK_SECONDS) -> str:
    """``SELECT 1`` on the default database; its vendor. Raises when the database does not answer.

    PostgreSQL gets a connection of its own, with a connect timeout, rather than one from the pool: with the
    database unreachable, the pool waits for a connection up to its timeout (30 s), longer than a load
    balancer's probe or Prometheus's scrape; and readiness that failed because every pooled connection is busy
    would take a loaded process out of rotation. The pool's own timeout is left alone, so a request under load
    still waits for a connection as long as it did.
    """
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return connection.vendor
    params = {**connection.get_connection_params(), "connect_timeout": seconds}
    driver: Any = connection.Database  # type: ignore[attr-defined]  # the backend's DB-API module (psycopg)
    own = driver.connect(**params)
    try:
        with own.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        own.close()
    return connection.vendor
