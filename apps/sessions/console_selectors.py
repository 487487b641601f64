"""Reads for the operator console: attempt outcomes per day, the commonest reasons, the reasons in use."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, QuerySet, TextField
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone

from .models import Session, SessionAttempt

# Attempts read for the reasons (newest first): enough for any console page, bounded for a busy service.
REASON_SAMPLE = 20_000


@dataclass(frozen=True)
class DayRates:
    day: date
    attempts: int
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def rates(self) -> dict[str, float]:
        return {outcome: n / self.attempts for outcome, n in self.counts.items()} if self.attempts else {}


def attempt_rates_per_day(*, days: int, now: datetime | None = None) -> list[DayRates]:
    """Each of the last ``days`` days (UTC, oldest first) with its attempts by outcome; days without any too."""
    now = now or timezone.now()
    first = (now - timedelta(days=days - 1)).date()
    # From the start of that day in the current time zone, as ``ended_at__date`` reads it: that lookup casts the
    # column, so it could not use the ended_at index and read every attempt.
    since = timezone.make_aware(datetime.combine(first, time.min))
    rows = (
        SessionAttempt.objects.filter(ended_at__gte=since)
        .order_by()  # the model's ordering (by session) joined every session to the count, though unused by it
        .annotate(day=TruncDate("ended_at"))
        .values("day", "outcome")
        .annotate(n=Count("id"))
    )
    counts: dict[date, dict[str, int]] = {first + timedelta(days=i): {} for i in range(days)}
    for row in rows:
        counts.setdefault(row["day"], {})[row["outcome"]] = row["n"]
    return [DayRates(day=day, attempts=sum(c.values()), counts=c) for day, c in sorted(counts.items())]


def attempt_top_reasons(*, days: int, limit: int = 10, now: datetime | None = None) -> list[tuple[str, int]]:
    """The commonest reasons of failed and retried attempts over the last ``days`` days."""
    since = (now or timezone.now()) - timedelta(days=days)
    found = SessionAttempt.objects.filter(ended_at__gte=since).exclude(reasons=[]).order_by("-ended_at")
    counter: Counter[str] = Counter()
    for reasons in found.values_list("reasons", flat=True)[:REASON_SAMPLE]:
        counter.update(str(r) for r in reasons or [])
    return counter.most_common(limit)


def session_reasons_in_use(*, limit: int = 30) -> list[str]:
    """The distinct failed reasons of recent sessions, for the console's reason filter."""
    counter: Counter[str] = Counter()
    recent = Session.objects.exclude(verification_failed_reasons=[]).order_by("-created_at")
    for reasons in recent.values_list("verification_failed_reasons", flat=True)[:REASON_SAMPLE]:
        counter.update(str(r) for r in reasons or [])
    return [reason for reason, _ in counter.most_common(limit)]


def sessions_with_reason(queryset: QuerySet[Session], *, reason: str) -> QuerySet[Session]:
    """Sessions whose failed reasons hold ``reason`` exactly (JSON as text: works on SQLite and PostgreSQL)."""
    as_text = Cast("verification_failed_reasons", output_field=TextField())
    return queryset.annotate(reasons_text=as_text).filter(reasons_text__contains=f'"{reason}"')


def sessions_with_attempt_reason(queryset: QuerySet[Session], *, reason: str) -> QuerySet[Session]:
    """Sessions with an attempt whose reasons hold ``reason`` exactly: a retried attempt's reason need not be
    the session's final one, and the dashboard counts attempts."""
    as_text = Cast("reasons", output_field=TextField())
    attempts = SessionAttempt.objects.annotate(reasons_text=as_text).filter(reasons_text__contains=f'"{reason}"')
    return queryset.filter(id__in=attempts.values("session_id"))
