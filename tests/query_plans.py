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


def plain_index_dropped(table: str, column: str) -> None:
    """Drop the plain one-column index of ``table.column`` for the rest of the test's transaction (rolled back with
    it), so that a partial index on the same column is the only one that can serve a query: on a table of a few
    test rows the planner's choice between the two is a coin toss (each run's statistics differ)."""
    require_postgres()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexdef LIKE %s AND indexdef NOT LIKE %s",
            [table, f"%({column})", "% WHERE %"],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')


def only_index_kept(table: str, keep: str) -> None:
    """Drop every other droppable index of ``table`` (not the primary key or a constraint's) for the rest of the
    test's transaction: what is left shows whether ``keep`` can serve a query, which a planner choosing among
    several indexes for a few test rows would not."""
    require_postgres()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexname <> %s"
            " AND indexname NOT IN (SELECT conname FROM pg_constraint)",
            [table, keep],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
