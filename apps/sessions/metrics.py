"""The sessions area's scrape-time metrics: sessions by status, counted in the database when /metrics is read."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily

from .models import Session


class SessionStatusCollector:
    """``liveproof_sessions{status}``: rows per status (one indexed GROUP BY per scrape)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "liveproof_sessions", "Sessions in the database by status, read at scrape time.", labels=["status"]
        )
        counts = dict(
            Session.objects.order_by().values_list("status").annotate(n=Count("id")).values_list("status", "n")
        )
        for status in Session.Status.values:
            family.add_metric([status], counts.get(status, 0))
        yield family
