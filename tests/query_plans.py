"""What PostgreSQL would do with the SQL Django issues: its plan, with sequential scans priced out.

A table of a few test rows is read fastest whole, so the planner would pick a sequential
scan whatever the indexes. With ``enable_seqscan`` off it takes an index wherever one can
answer the query, as it does on a table of a few hundred thousand rows: a plan that still
reads the whole table (``Seq Scan``, or no index of the query's columns) has none to use.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet

from tests.conftest import require_postgres


def sql_plan(sql: str, params: Sequence[Any] | None = None, *, sorts: bool = True) -> str:
    """The plan of ``sql`` (``EXPLAIN`` only: the statement does not run), sequential scans priced out.

    ``sorts=False`` prices sorts out too: a plan that still sorts has no index in the query's order."""
    require_postgres()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        if not sorts:
            cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)  # the savepoint's rollback takes the SET LOCAL with it
    return plan


def queryset_plan(queryset: QuerySet[Any], *, sorts: bool = True) -> str:
    sql, params = queryset.query.sql_with_params()
    return sql_plan(sql, params, sorts=sorts)


def statements_on(captured: Iterable[dict[str, Any]], table: str, verb: str) -> list[str]:
    """The captured SQL statements starting with ``verb`` (SELECT, UPDATE, DELETE) that name ``table``."""
    return [q["sql"] for q in captured if q["sql"].startswith(verb) and f'"{table}"' in q["sql"]]
