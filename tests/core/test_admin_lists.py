"""The admin lists of the big tables (sessions, audit events) read a page, not the whole table.

Django's own filter of a field without choices lists the values in use (a SELECT DISTINCT
over the table), a date hierarchy lists the dates in use (another), and a filtered list
counted every row again for its "(N total)": 640-768 ms a page at 200,000 sessions,
134 ms at 400,000 audit events.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.sessions.models import Session
from tests.sessions.conftest import make_session

pytestmark = pytest.mark.django_db

# Each list, its table, and a filter an operator uses.
LISTS = [
    ("/admin/capture/session/", "capture_session", {"status": "created"}),
    ("/admin/audit/auditevent/", "audit_auditevent", {"type": "admin.login"}),  # the admin client's own login
]


def _statements_on(admin_client, url: str, query: dict[str, str], table: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert admin_client.get(url, query).status_code == 200
    return [q["sql"] for q in queries.captured_queries if f'"{table}"' in q["sql"]]


@pytest.mark.parametrize(("url", "table", "filtered"), LISTS)
def test_a_list_of_a_big_table_reads_no_distinct_values_and_counts_only_what_it_shows(
    integrator, admin_client, url, table, filtered
):
    make_session(integrator.account)

    for query in ({}, filtered):
        statements = _statements_on(admin_client, url, query, table)
        assert not [sql for sql in statements if "DISTINCT" in sql], statements
        counts = [sql for sql in statements if sql.startswith("SELECT COUNT(*)")]
        assert len(counts) == 1, counts  # the page's own
        assert bool(query) == (" WHERE " in counts[0]), counts


def test_the_session_list_offers_every_engine_and_filters_by_it(integrator, admin_client):
    session = make_session(integrator.account)
    Session.objects.filter(id=session.id).update(engine="mediapipe")
    other = make_session(integrator.account)

    page = admin_client.get("/admin/capture/session/").content.decode()
    assert all(f"?engine={name}" in page for name in ("dlib", "insightface", "mediapipe")), page
    listed = admin_client.get("/admin/capture/session/", {"engine": "mediapipe"}).content.decode()
    assert str(session.id) in listed and str(other.id) not in listed


@pytest.mark.parametrize(("url", "table", "filtered"), LISTS)
def test_an_unfiltered_list_of_a_big_table_takes_postgresqls_row_estimate_instead_of_counting_it(
    integrator, admin_client, monkeypatch, url, table, filtered
):
    """COUNT(*) reads the whole table: seconds a page at tens of millions of sessions."""
    from apps.core.paginators import EstimatedCountPaginator
    from tests.conftest import require_postgres

    require_postgres()
    for _ in range(3):
        make_session(integrator.account)
    monkeypatch.setattr(EstimatedCountPaginator, "EXACT_BELOW", 1)  # as if the table were big
    with connection.cursor() as cursor:
        cursor.execute(f'ANALYZE "{table}"')
    unfiltered = _statements_on(admin_client, url, {}, table)
    assert not [sql for sql in unfiltered if sql.startswith("SELECT COUNT(*)")], unfiltered
    counts = [sql for sql in _statements_on(admin_client, url, filtered, table) if sql.startswith("SELECT COUNT(*)")]
    assert len(counts) == 1 and " WHERE " in counts[0], counts  # a filtered list counts exactly


# The other lists of tables that grow with every session, user or face.
ORDERED_LISTS = [
    ("/admin/faces/face/", "faces_face"),
    ("/admin/webhooks/webhookdelivery/", "webhooks_webhookdelivery"),
    ("/admin/webhooks/webhookattempt/", "webhooks_webhookattempt"),
    ("/admin/webhooks/webhookevent/", "webhooks_webhookevent"),
    ("/admin/users/entryuser/", "users_entryuser"),
]


@pytest.mark.parametrize(("url", "table"), ORDERED_LISTS)
def test_a_page_of_a_growing_table_is_read_in_index_order_and_reads_no_distinct_values(admin_client, url, table):
    """Sorting the whole table for each page (28-63 ms at a few hundred thousand rows, growing), and listing the
    status codes in use for the attempts' filter (a SELECT DISTINCT over every attempt)."""
    from tests.query_plans import queryset_plan

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(url)
    statements = [q["sql"] for q in queries.captured_queries if f'"{table}"' in q["sql"]]
    assert not [sql for sql in statements if "DISTINCT" in sql], statements
    plan = queryset_plan(response.context["cl"].queryset[:100], sorts=False)  # the list's first page
    assert "Sort" not in plan and f"Seq Scan on {table}" not in plan, plan


def test_the_attempts_list_filters_by_the_class_of_the_answer(admin_client):
    page = admin_client.get("/admin/webhooks/webhookattempt/", {"answer": "5xx"})
    assert page.status_code == 200 and "no answer" in page.content.decode()
    sql = str(page.context["cl"].queryset.query)
    assert '"status_code" >= 500' in sql and '"status_code" < 600' in sql, sql
