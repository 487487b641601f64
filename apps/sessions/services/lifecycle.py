"""Session housekeeping: retry after a "retry" verdict, cancel, expiry, and the periodic sweep
(stuck verdicts, ICAO photos past retention, sessions past their time to live)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.verifications.enums import VerifierResult
from apps.webhooks import services as webhooks
from apps.webhooks.event_types import EventType

from ..messages import session_result_message
from ..models import AttemptThumbnail, Session, SessionAttempt
from ..notifier import notify_message
from ..selectors import session_result_payload
from ..session_locks import session_lock
from ..state_store import CAPTURE_STATE_SECONDS, capture_record_delete, capture_record_get, result_announced_mark
from ..verdict_rules import ATTEMPTS_EXHAUSTED
from ..webhook_formats import session_webhook_body
from .attempts import session_attempt_record
from .create import capture_attempt_reset, capture_plan_for

# Why an attempt was abandoned: the page was loaded again while it ran (the operator console shows it).
RELOADED = "reloaded"

# How long ending a session waits for a frame that is being analysed (a frame takes milliseconds).
FINISH_LOCK_WAIT_SECONDS = 5.0
# How a stuck session's verdict is queued again: (session_id, gen); the task module passes its task.
DecideRequest = Callable[[str, str], object]


def session_retry(*, session_id: str) -> Session | None:
    """Start the next attempt after a "retry" verdict, or None when none is waiting."""
    session = Session.objects.filter(id=session_id).first()
    if session is None:
        return None
    _, challenges = capture_plan_for(session.typed_config.verifiers.liveness)
    updated = Session.objects.filter(
        id=session_id,
        status=Session.Status.IN_PROGRESS,
        verdict="retry",
        attempt=session.attempt,
        attempt__lt=session.max_attempts,
        expires_at__gt=timezone.now(),
    ).update(
        attempt=session.attempt + 1,
        verdict="",
        verification_failed_reasons=[],
        challenges=challenges,
        confidence=None,
        scores={},
        challenge_outcomes={},
    )
    if updated != 1:
        return None
    session.refresh_from_db()
    capture_attempt_reset(session=session)
    return session


def session_page_reload(*, session: Session) -> bool:
    """A page load during an attempt that has shown a challenge spends that attempt; True when it did.

    Otherwise a reload would show the same challenges again for free (a preview of the next one). With
    attempts left the next one starts with new challenges and the spent one is kept for the operator
    (``SessionAttempt`` ``abandoned``, reason ``reloaded``); on the last one the session fails
    ``attemptsExhausted``. A socket that only reconnects (the resume token) still costs nothing, and so does
    a load before any challenge was named (a passive hold). The page's own "Start again" reconnects instead.
    The spent attempt's capture goes with it, so that its frames still on their way cannot complete the next
    attempt; one whose capture is already complete is not spent (its verdict is on its way).
    """
    if session.status != Session.Status.IN_PROGRESS or session.verdict or session.attempt_started_at is None:
        return False
    sid = str(session.id)
    # Under the lock: a frame being analysed saves first, and none of the spent attempt saves after.
    with session_lock(session_id=sid, wait=FINISH_LOCK_WAIT_SECONDS):
        record = capture_record_get(session_id=sid)
        if record is None or record["complete"] or not record.get("challenge"):
            return False
        if session.attempt < session.max_attempts:
            _, challenges = capture_plan_for(session.typed_config.verifiers.liveness)
            with transaction.atomic():
                spent = Session.objects.filter(
                    id=session.id, status=Session.Status.IN_PROGRESS, attempt=session.attempt, verdict=""
                ).update(attempt=session.attempt + 1, challenges=challenges, attempt_started_at=None)
                if spent:  # ``session`` still holds the spent attempt: its number, start and challenges
                    session_attempt_record(
                        session=session, outcome=SessionAttempt.Outcome.ABANDONED, reasons=[RELOADED], record=record
                    )
            if spent:
                capture_record_delete(session_id=sid)  # the next socket starts a fresh record
            return bool(spent)
    return _finish_without_verdict(
        session_id=session.id,
        status=Session.Status.COMPLETED,
        reason=ATTEMPTS_EXHAUSTED,
        event_type=EventType.SESSION_COMPLETED,
    )


def session_result_notify(*, session: Session) -> None:
    """Tell the session's sockets its stored result (nothing when there is none yet).

    Marks the result as published; a session finished without that mark (its worker died
    after the commit) is published again by ``recovery.sessions_results_announce``.
    """
    message = session_result_message(session=session)
    if message:
        notify_message(session_id=str(session.id), message=message)
        if session.is_finished:
            result_announced_mark(session_id=str(session.id))


def _finish_without_verdict(
    *, session_id: uuid.UUID | str, status: Session.Status, reason: str, event_type: EventType
) -> bool:
    with transaction.atomic():
        updated = Session.objects.filter(id=session_id, status__in=Session.UNFINISHED).update(
            status=status,
            completed_at=timezone.now(),
            verification_result=VerifierResult.FAIL,
            verification_failed_reasons=[reason],
        )
        if updated != 1:
            return False
        session = Session.objects.select_related("account").get(id=session_id)
        if session.attempt_started_at is not None:  # an attempt was under way: keep what it showed
            session_attempt_record(
                session=session,
                # A reload on the last attempt completes the session failed (session_page_reload).
                outcome=SessionAttempt.Outcome.FAIL
                if status == Session.Status.COMPLETED
                else SessionAttempt.Outcome(status.value),
                reasons=[reason],
                record=capture_record_get(session_id=str(session.id)),
            )
        webhook_event_record_safe(session=session, event_type=event_type)
    # After any frame being analysed has saved its state: deleted before that save, the face data would be
    # written back and kept for hours after the session ended.
    with session_lock(session_id=str(session.id), wait=FINISH_LOCK_WAIT_SECONDS):
        capture_record_delete(session_id=str(session.id))
    session_result_notify(session=session)
    return True


def webhook_event_record_safe(*, session: Session, event_type: EventType) -> None:
    """Record the session's event with its stored result, to the session's own callback URL if it has one.

    A session created through an adapter's API (``webhook_format``) sends that API's body instead, bare.
    """
    adapted = session_webhook_body(session=session)
    webhooks.webhook_event_record(
        account=session.account,
        event_type=event_type,
        payload=session_result_payload(session=session) if adapted is None else adapted,
        url=session.typed_config.webhook.event_callback_url,
        session_id=session.id,
        enveloped=adapted is None,
    )


def session_cancel(*, session_id: uuid.UUID | str) -> bool:
    """End the session ``cancelled``; one past its time to live (the sweep has not run yet) ends ``expired``,
    as a page load, a frame or a retry at that moment would end it."""
    if session_expire_if_due(session_id=session_id):
        return True
    return _finish_without_verdict(
        session_id=session_id,
        status=Session.Status.CANCELLED,
        reason="cancelled",
        event_type=EventType.SESSION_CANCELLED,
    )


def session_expire(*, session_id: uuid.UUID | str) -> bool:
    return _finish_without_verdict(
        session_id=session_id,
        status=Session.Status.EXPIRED,
        reason="sessionExpired",
        event_type=EventType.SESSION_EXPIRED,
    )


def session_expire_if_due(*, session_id: uuid.UUID | str) -> bool:
    """Expire an unfinished session past its time to live now, before the minute sweep reaches it, as a page
    load, a socket connect or a cancel at that moment must; True when it was due (it is finished now)."""
    due = Session.objects.filter(id=session_id, status__in=Session.UNFINISHED, expires_at__lte=timezone.now())
    if not due.exists():
        return False
    session_expire(session_id=session_id)
    return True


def sessions_rescue_stuck(*, decide: DecideRequest, now: datetime | None = None) -> int:
    """Queue the verdict again (through ``decide``) for sessions left in "analysing": their worker died."""
    now = now or timezone.now()
    stuck = (
        Session.objects.filter(
            status=Session.Status.ANALYSING, attempt_started_at__lt=now - timedelta(minutes=2), expires_at__gt=now
        )
        .order_by("created_at")  # oldest first, as in recovery.sessions_rescue_analysing
        .values_list("id", flat=True)
    )
    queued = 0
    for session_id in list(stuck[:100]):
        record = capture_record_get(session_id=str(session_id))
        if record is not None:
            decide(str(session_id), record["gen"])
            queued += 1
    return queued


def sessions_photos_purge(*, now: datetime | None = None) -> int:
    """Drop ICAO photos and attempt thumbnails of sessions past the result retention; returns the photos dropped."""
    now = now or timezone.now()
    oldest = now - timedelta(days=int(settings.SESSION_RESULT_RETENTION_DAYS))
    _thumbnails_purge(oldest=oldest)
    return Session.objects.filter(created_at__lt=oldest, icao_jpeg__isnull=False).update(icao_jpeg=None)


def _thumbnails_purge(*, oldest: datetime) -> None:
    """Delete the thumbnails of sessions created before ``oldest``, found by the thumbnails' own created_at.

    Joined to their sessions, every run read every attempt. A thumbnail is written when its attempt ends, so
    it is never older than its session: each one created before ``oldest`` is of such a session. The converse
    misses an attempt that ended after ``oldest`` in a session created before it, at most ``_thumbnail_lag``
    later: the second delete looks that window up by its sessions, so none outlives the old rule."""
    AttemptThumbnail.objects.filter(created_at__lt=oldest).delete()
    window = AttemptThumbnail.objects.filter(created_at__gte=oldest, created_at__lt=oldest + _thumbnail_lag())
    window.filter(attempt__session__created_at__lt=oldest).delete()


def _thumbnail_lag() -> timedelta:
    # Thumbnails are made from the capture state, written while the session lives and cached this long after.
    return timedelta(seconds=int(settings.SESSION_TTL_SECONDS) + CAPTURE_STATE_SECONDS)


def sessions_expire_due(*, now: datetime | None = None) -> int:
    """Expire every unfinished session past its time to live; returns how many."""
    now = now or timezone.now()
    due = Session.objects.filter(status__in=Session.UNFINISHED, expires_at__lte=now).values_list("id", flat=True)
    return sum(1 for session_id in list(due[:500]) if session_expire(session_id=session_id))
