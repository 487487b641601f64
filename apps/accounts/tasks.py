"""Periodic housekeeping of the accounts area (thin: one query each)."""

from __future__ import annotations

from datetime import timedelta

from axes.models import AccessFailureLog, AccessLog
from celery import shared_task
from django.conf import settings
from django.utils import timezone


@shared_task(name="apps.accounts.tasks.admin_login_logs_purge", ignore_result=True)
def admin_login_logs_purge() -> int:
    """Daily: forget admin logins and failed logins (address, user name, user agent) past SESSION_RETENTION_DAYS.

    django-axes keeps these logs forever; its lockout counters (AccessAttempt) expire on their own.
    """
    cutoff = timezone.now() - timedelta(days=int(settings.SESSION_RETENTION_DAYS))
    logins, _ = AccessLog.objects.filter(attempt_time__lt=cutoff).delete()
    failures, _ = AccessFailureLog.objects.filter(attempt_time__lt=cutoff).delete()
    return logins + failures
