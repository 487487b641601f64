"""The Celery application. Settings come from Django's CELERY_* settings."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import task_postrun, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("liveproof")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _drop_inherited_database_pools(**_: object) -> None:
    """A forked pool process must not use the parent's PostgreSQL pool: its threads did not survive the fork and
    its sockets are the parent's. Forget it (closing would end the parent's connections); the child opens its own."""
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        pools = getattr(type(connection), "_connection_pools", None)
        if pools is not None:
            pools.pop(connection.alias, None)
        connection.connection = None


# The queues whose tasks run the face engine (frame analysis and verdicts, key-frame embeddings).
ENGINE_QUEUES = frozenset({"frames", "keys"})


@worker_process_init.connect
def _load_face_models(**_: object) -> None:
    """A worker process that takes engine tasks loads the face models as it starts, not under its first frame:
    a restarted or added frames worker would otherwise keep a live session's frames waiting seconds for them."""
    if ENGINE_QUEUES & set(app.amqp.queues.consume_from):
        from apps.core.engine import engine_load_in_background

        engine_load_in_background()


@task_postrun.connect
def _periodic_job_finished(sender: object = None, state: str | None = None, retval: object = None, **_: object) -> None:
    """Each periodic job's last finish and error, for the operator (the admin's periodic jobs)."""
    from apps.core.periodic import periodic_task_finished

    name = getattr(sender, "name", "")
    periodic_task_finished(task_name=name, failed="" if state == "SUCCESS" else f"{state}: {retval!r}")
