"""Celery tasks: thin, idempotent, and given only a delivery id; and the one place that queues them."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction

from .delivery import webhook_deliveries_sweep as _sweep
from .delivery import webhook_delivery_send as _send
from .delivery import webhook_events_purge as _purge
from .signing_secrets import webhook_secrets_rotate_due as _rotate_due

logger = logging.getLogger(__name__)


def delivery_publish(delivery_id: int, countdown: float = 0) -> None:
    """Queue one send of the delivery; a broker outage is logged, not raised (the sweep re-enqueues it)."""
    try:
        webhook_delivery_send.apply_async(
            args=(delivery_id,),
            countdown=countdown,  # 0: at once (Celery reads a zero countdown as none)
            retry=True,
            retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.5},
        )
    except Exception:  # the broker is down: the row is safe and the sweep will enqueue it
        logger.warning("Could not enqueue webhook delivery %s; the sweep will retry", delivery_id, exc_info=True)


def delivery_enqueue_on_commit(*, delivery_id: int) -> None:
    """Enqueue the send task once the current transaction commits (never for a rolled-back event)."""
    transaction.on_commit(lambda: delivery_publish(delivery_id), robust=True)


@shared_task(name="apps.webhooks.tasks.webhook_delivery_send", acks_late=True, ignore_result=True)
def webhook_delivery_send(delivery_id: int) -> str:
    """One attempt at a delivery; a duplicate or late message finds nothing to claim and does nothing."""
    return _send(delivery_id=int(delivery_id), publish=delivery_publish)


@shared_task(name="apps.webhooks.tasks.webhook_deliveries_sweep", ignore_result=True)
def webhook_deliveries_sweep() -> int:
    """Beat: re-enqueue deliveries that are due but not in flight."""
    return _sweep(publish=delivery_publish)


@shared_task(name="apps.webhooks.tasks.webhook_events_purge", ignore_result=True)
def webhook_events_purge() -> int:
    """Beat, daily: forget old events, their deliveries and attempts (they hold session results)."""
    return _purge()


@shared_task(name="apps.webhooks.tasks.webhook_secrets_rotate_due", ignore_result=True)
def webhook_secrets_rotate_due() -> int:
    """Hourly: rotate webhook secrets older than WEBHOOK_SECRET_ROTATION_DAYS (off when 0)."""
    return _rotate_due()
