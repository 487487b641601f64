"""The session console's list filters: each lists its choices without reading the whole sessions table."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from ..console_selectors import (
    attempt_top_reasons,
    session_reasons_in_use,
    sessions_with_attempt_reason,
    sessions_with_reason,
)
from ..models import Session
from . import dashboard


class ReasonFilter(admin.SimpleListFilter):
    title = "reason"
    parameter_name = "reason"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(reason, reason) for reason in session_reasons_in_use()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Session]) -> QuerySet[Session]:
        value = self.value()
        return sessions_with_reason(queryset, reason=str(value)) if value else queryset


class AttemptReasonFilter(admin.SimpleListFilter):
    """Sessions with an attempt that ended for a reason: where the dashboard's top reasons lead."""

    title = "an attempt's reason"
    parameter_name = "attempt_reason"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(reason, reason) for reason, _ in attempt_top_reasons(days=dashboard.REASON_DAYS)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Session]) -> QuerySet[Session]:
        value = self.value()
        return sessions_with_attempt_reason(queryset, reason=str(value)) if value else queryset


def fixed_values_filter(field: str, values: Iterable[str]) -> type[admin.SimpleListFilter]:
    """A filter on ``field`` offering the known ``values``: Django's own for a field without choices lists the
    values in use, a SELECT DISTINCT over the whole table on every page of the list."""
    offered = [(str(value), str(value)) for value in values]

    class FixedValuesFilter(admin.SimpleListFilter):
        title = field.replace("_", " ")
        parameter_name = field  # the field's own filter took the same parameter: bookmarked lists still work

        def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
            return offered

        def queryset(self, request: HttpRequest, queryset: QuerySet[Session]) -> QuerySet[Session]:
            value = self.value()
            return queryset.filter(**{field: value}) if value else queryset

    return FixedValuesFilter
