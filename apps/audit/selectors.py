"""Reading the audit trail: filters, cursor pagination, CSV and JSON export."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from apps.core.errors import ApplicationError
from apps.core.timestamps import utc_timestamp

from .models import AuditEvent

CSV_COLUMNS = ("eventId", "type", "occurredAt", "actor", "address", "subjectType", "subjectId", "details")


# A cursor is the id of the last event of a page: the next page holds the older ones.
CURSOR_PATTERN = r"^[1-9][0-9]{0,17}$"


def cursor_encode(event_id: int) -> str:
    return str(event_id)


def cursor_decode(cursor: str) -> int:
    if not re.fullmatch(CURSOR_PATTERN, cursor):
        raise ApplicationError(
            "The request has invalid fields.", code="invalid", fields={"cursor": ["Not a cursor from this API."]}
        )
    return int(cursor)


def audit_events_filter(
    *,
    account_id: Any,
    types: Iterable[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    subject_id: str | None = None,
) -> QuerySet[AuditEvent]:
    """The account's events, newest first."""
    events = AuditEvent.objects.filter(account_id=account_id).order_by("-id")
    if types := list(types):
        events = events.filter(type__in=types)
    if since is not None:
        events = events.filter(occurred_at__gte=since)
    if until is not None:
        events = events.filter(occurred_at__lt=until)
    if subject_id:
        events = events.filter(subject_id=subject_id)
    return events


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    next_cursor: str | None


def audit_events_page(*, events: QuerySet[AuditEvent], cursor: str | None, limit: int) -> AuditPage:
    if cursor:
        events = events.filter(id__lt=cursor_decode(cursor))
    rows = list(events[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return AuditPage(events=rows, next_cursor=cursor_encode(rows[-1].id) if more and rows else None)


def audit_event_payload(event: AuditEvent) -> dict[str, Any]:
    return {
        "eventId": str(event.id),
        "type": event.type,
        "occurredAt": utc_timestamp(event.occurred_at),
        "actor": event.actor,
        "address": event.address,
        "subjectType": event.subject_type,
        "subjectId": event.subject_id,
        "details": event.details,
    }


def audit_events_csv(events: Iterable[AuditEvent]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for event in events:
        row = audit_event_payload(event)
        row["details"] = json.dumps(row["details"], sort_keys=True)
        # A cell starting with = + - @ would be a formula in a spreadsheet: quote it as text.
        writer.writerow(["'" + str(v) if str(v)[:1] in "=+-@" else ("" if v is None else v) for v in row.values()])
    return out.getvalue()
