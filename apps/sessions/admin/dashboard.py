"""The console's dashboard: attempt outcomes per day (pass, fail, retry, cancelled, expired, abandoned) and the top
reasons."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from ..console_selectors import attempt_rates_per_day, attempt_top_reasons
from ..models import SessionAttempt
from . import charts

DAYS = 14
REASON_DAYS = 30
OUTCOMES = [choice.value for choice in SessionAttempt.Outcome]


def _days(request: HttpRequest) -> int:
    """``?days=`` between 1 and 90; 14 without it or when it is not a number."""
    try:
        return min(max(int(request.GET.get("days", DAYS)), 1), 90)
    except ValueError:
        return DAYS


def view(model_admin: admin.ModelAdmin[Any]) -> Callable[[HttpRequest], HttpResponse]:
    def dashboard(request: HttpRequest) -> HttpResponse:
        if not model_admin.has_view_permission(request):
            raise PermissionDenied
        days = _days(request)
        rows = attempt_rates_per_day(days=days)
        table = [
            {
                "day": row.day,
                "attempts": row.attempts,
                "cells": [(row.counts.get(o, 0), row.rates.get(o, 0.0)) for o in OUTCOMES],
            }
            for row in reversed(rows)
        ]
        context = {
            **model_admin.admin_site.each_context(request),
            "title": "Sessions dashboard",
            "opts": model_admin.model._meta,
            "days": days,
            "outcomes": OUTCOMES,
            "table": table,
            "total": sum(row.attempts for row in rows),
            "reasons": attempt_top_reasons(days=REASON_DAYS),
            "reason_days": REASON_DAYS,
        }
        return TemplateResponse(request, "admin/capture/session/dashboard.html", context)

    return dashboard


def rates_chart(model_admin: admin.ModelAdmin[Any]) -> Callable[[HttpRequest], HttpResponse]:
    def chart(request: HttpRequest) -> HttpResponse:
        if not model_admin.has_view_permission(request):
            raise PermissionDenied
        rows = attempt_rates_per_day(days=_days(request))
        days = [{"day": row.day.strftime("%m-%d"), "rates": row.rates} for row in rows]
        return charts.svg_response(charts.rates_svg(days, outcomes=OUTCOMES))

    return chart
