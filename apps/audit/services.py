"""Recording audit events (every app calls ``audit_record``) and their retention."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.http import HttpRequest
from django.utils import timezone

from apps.core.cache import cache_read

from .context import actor_current
from .models import AuditEvent, AuditEventType

logger = logging.getLogger(__name__)


def audit_record(
    *,
    account_id: Any,
    type: AuditEventType,
    actor: str | None = None,
    address: str | None = None,
    subject_type: str = "",
    subject_id: Any = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. Inside a transaction it commits or rolls back with the change it records.

    ``actor`` and ``address`` default to the request's caller (``context.actor_current``), else "system".
    """
    current = actor_current()
    return AuditEvent.objects.create(
        account_id=account_id,
        type=type,
        actor=(actor or current.name)[:200],
        address=address or (current.address if actor is None else None) or None,
        subject_type=subject_type,
        subject_id=str(subject_id)[:200],
        details=details or {},
    )


def api_key_address_cache_key(key_prefix: str, address: str) -> str:
    """The cache key under which :func:`api_key_address_seen` remembers that a key was used from ``address``."""
    return "audit:keyaddr:" + hashlib.sha256(f"{key_prefix}|{address}".encode()).hexdigest()[:32]


def api_key_address_seen(*, account_id: Any, key_prefix: str, address: str | None) -> None:
    """Record ``apiKey.usedFromNewAddress`` the first time a key is used from an address.

    One cache read per request; the database is asked only when the cache does not know the pair.
    """
    if not address:
        return
    cache_key = api_key_address_cache_key(key_prefix, address)
    try:
        if cache_read(cache_key):
            return
    except Exception:  # a cache outage must not fail the request: the database still knows the pair
        logger.warning("could not read the API key address cache", exc_info=True)
    try:
        seen = AuditEvent.objects.filter(
            type=AuditEventType.API_KEY_NEW_ADDRESS, subject_id=key_prefix, address=address
        ).exists()
        if not seen:
            audit_record(
                account_id=account_id,
                type=AuditEventType.API_KEY_NEW_ADDRESS,
                actor=f"apiKey:{key_prefix}",
                address=address,
                subject_type="apiKey",
                subject_id=key_prefix,
            )
    except DatabaseError:  # never fail a request for its audit line
        logger.exception("could not record an API key's new address")
        return
    try:
        cache.set(cache_key, 1, timeout=24 * 3600)
    except Exception:
        logger.warning("could not write the API key address cache", exc_info=True)


def admin_login_record(sender: Any, request: HttpRequest | None = None, user: Any = None, **_: Any) -> None:
    """``user_logged_in`` receiver: an admin sign-in, with the address it came from."""
    address = request.META.get("REMOTE_ADDR") if request is not None else None
    audit_record(
        account_id=None,
        type=AuditEventType.ADMIN_LOGIN,
        actor=f"admin:{getattr(user, 'get_username', lambda: '')()}",
        address=address,
        subject_type="adminUser",
        subject_id=getattr(user, "pk", ""),
    )


def audit_events_purge(*, now: datetime | None = None) -> int:
    """The only deletion: events older than AUDIT_RETENTION_DAYS (a raw delete past the append-only guard)."""
    cutoff = (now or timezone.now()) - timedelta(days=int(settings.AUDIT_RETENTION_DAYS))
    with transaction.atomic():
        old = AuditEvent.objects.filter(occurred_at__lt=cutoff)
        return int(old._raw_delete(old.db))
