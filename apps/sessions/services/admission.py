"""Admission control: while the frames workers have as many captures as they can serve, new sessions wait.

Overload must make people wait, never fail them: a capture that starts on
saturated workers gets too few of its frames analysed to show a blink, and
ends as a retry. So with ``CAPTURE_MAX_ACTIVE`` set, a new session is refused
(503 ``unavailable`` with ``Retry-After``) while that many captures may be
running: sessions created within ``CAPTURE_ADMISSION_RESERVE_SECONDS`` that
have not connected yet (their camera is about to start), sessions whose
current attempt started within ``CAPTURE_ADMISSION_WINDOW_SECONDS``, and
sessions being analysed. The count is one indexed query; two creations at the
same instant may both pass, so the limit is soft by a request or two.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from apps.core.errors import ApplicationError
from apps.core.metrics import rate_limit_refused

from ..models import Session


class ServiceBusyError(ApplicationError):
    """503 ``unavailable``: as many captures may be running as ``CAPTURE_MAX_ACTIVE`` allows; retry later."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "Too many verifications are under way; try again in a few seconds.",
            code="unavailable",
            status=503,
            headers={"Retry-After": str(retry_after)},
        )
        self.retry_after = retry_after


def captures_active() -> int:
    """The captures that may be running now (see the module doc)."""
    now = timezone.now()
    reserve = now - timedelta(seconds=float(settings.CAPTURE_ADMISSION_RESERVE_SECONDS))
    window = now - timedelta(seconds=float(settings.CAPTURE_ADMISSION_WINDOW_SECONDS))
    return Session.objects.filter(
        Q(status=Session.Status.CREATED, created_at__gte=reserve)
        | Q(status=Session.Status.IN_PROGRESS, attempt_started_at__gte=window)
        | Q(status=Session.Status.ANALYSING, expires_at__gt=now)
    ).count()


def capture_admission_check() -> None:
    """Raise 503 with Retry-After when ``CAPTURE_MAX_ACTIVE`` captures may be running (0: no limit)."""
    limit = int(settings.CAPTURE_MAX_ACTIVE)
    if limit <= 0 or captures_active() < limit:
        return
    rate_limit_refused(limit="capture-admission")
    raise ServiceBusyError(int(settings.CAPTURE_ADMISSION_RETRY_AFTER_SECONDS))
