"""Celery tasks: thin, idempotent, and given only a delivery id."""

from __future__ import annotations

from celery import shared_task

from .delivery import webhook_deliveries_sweep as _sweep
from .delivery import webhook_delivery_send as _send
from .delivery import webhook_events_purge as _purge


@shared_task(name="apps.webhooks.tasks.webhook_delivery_send", acks_late=True, ignore_result=True)
def webhook_delivery_send(delivery_id: int) -> str:
    """One attempt at a delivery; a duplicate or late message finds nothing to claim and does nothing."""
    return _send(delivery_id=int(delivery_id))


@shared_task(name="apps.webhooks.tasks.webhook_deliveries_sweep", ignore_result=True)
def webhook_deliveries_sweep() -> int:
    """Beat: re-enqueue deliveries that are due but not in flight."""
    return _sweep()


@shared_task(name="apps.webhooks.tasks.webhook_events_purge", ignore_result=True)
def webhook_events_purge() -> int:
    """Beat, daily: forget old events, their deliveries and attempts (they hold session results)."""
    return _purge()
