"""Bounds on a Celery queue that may have no consumer (Redis broker).

Celery's ``expires`` is read only when a worker takes a message: a queue that no
worker serves keeps every message in its Redis list, with no TTL, for ever.
"""

from __future__ import annotations

from typing import Any

from celery import current_app


def broker_queue_bound(*, queue: str, keep: int, idle_seconds: int) -> None:
    """Keep only the newest ``keep`` messages waiting in ``queue``, and drop them all ``idle_seconds`` after the
    last one was queued (by then each has passed its ``expires`` of at most ``idle_seconds``).

    Kombu's Redis transport pushes a message without priority onto the left of the list named after its queue
    and workers pop from the right, so the right end holds the oldest. Other brokers are left alone, as are
    eager tasks (there is no broker).
    """
    if current_app.conf.task_always_eager:
        return
    with current_app.pool.acquire(block=True) as acquired:
        connection: Any = acquired  # a kombu Connection (celery's stubs say Producer)
        if connection.transport.driver_type != "redis":
            return
        with connection.default_channel.client.pipeline() as pipe:
            pipe.ltrim(queue, 0, keep - 1)
            pipe.expire(queue, idle_seconds)
            pipe.execute()
