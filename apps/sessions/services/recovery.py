"""Recovery after a worker dies: no session is left on "Analysing…" and no face crop outlives its session.

A frames worker can die at three points. Mid-frame: its session lock lapses within
LOCK_TTL_SECONDS and the next frame goes on. Mid-verdict: the session stays analysing
with its lock free, and ``sessions_rescue_analysing`` queues the verdict again. Between
the verdict's commit and its publication: the result is stored but nobody told the page
and the capture state (face crops) is still cached; ``sessions_results_announce``
deletes it and publishes the stored result. The hosted page also polls the stored
result when none arrives (``static/capture/session.js``), so the user never waits on
the channel layer alone.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from ..models import Session
from ..session_locks import session_lock_held
from ..state_store import capture_record_delete, capture_record_get, decide_queued_mark, results_unannounced
from .lifecycle import DecideRequest, session_result_notify

# A result committed this recently may still be on its way from its own worker.
ANNOUNCE_GRACE = timedelta(seconds=2)
# Sessions finished longer ago than this are past help (their page has long polled the result).
ANNOUNCE_WINDOW = timedelta(minutes=10)
# Sessions whose announcement is looked up in the cache at once.
ANNOUNCE_CHUNK = 500
# A rescued verdict waits this long in the queue before the sweep queues it again.
RESCUE_REQUEUE_SECONDS = 10
FINISHED = (Session.Status.COMPLETED, Session.Status.EXPIRED, Session.Status.CANCELLED)


def sessions_results_announce(*, now: datetime | None = None) -> int:
    """Publish stored results nobody published (their worker died after the commit); returns how many.

    Every session finished in the window is looked at, ``ANNOUNCE_CHUNK`` at a time: a busy window must not
    hide one whose capture state (face crops) would then stay cached until the cache's own timeout."""
    now = now or timezone.now()
    recent = Session.objects.filter(
        status__in=FINISHED, completed_at__gte=now - ANNOUNCE_WINDOW, completed_at__lte=now - ANNOUNCE_GRACE
    )
    ids = [str(sid) for sid in recent.order_by("completed_at", "id").values_list("id", flat=True)]
    announced = 0
    for start in range(0, len(ids), ANNOUNCE_CHUNK):
        pending = results_unannounced(session_ids=ids[start : start + ANNOUNCE_CHUNK])
        for session in Session.objects.filter(id__in=pending):
            # The capture state holds the best frame and face crops: it goes with the session.
            capture_record_delete(session_id=str(session.id))
            session_result_notify(session=session)
        announced += len(pending)
    return announced


def sessions_rescue_analysing(*, decide: DecideRequest, now: datetime | None = None) -> int:
    """Queue the verdict again for analysing sessions that no live worker holds; returns how many."""
    now = now or timezone.now()
    # Oldest first: a stuck session only ages, so with more than one sweep's worth analysing it still comes round.
    analysing = (
        Session.objects.filter(status=Session.Status.ANALYSING, expires_at__gt=now)
        .order_by("created_at")
        .values_list("id", flat=True)
    )
    queued = 0
    for session_id in (str(sid) for sid in analysing[:200]):
        if session_lock_held(session_id=session_id):
            continue
        record = capture_record_get(session_id=session_id)
        if record is not None and decide_queued_mark(session_id=session_id, seconds=RESCUE_REQUEUE_SECONDS):
            decide(session_id, record["gen"])
            queued += 1
    return queued
