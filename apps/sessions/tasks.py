"""Celery tasks of the capture area (queues "frames" and "keys"). Thin: JSON arguments in, one service call."""

from __future__ import annotations

import logging
import time

from celery import shared_task

from apps.core.broker import broker_queue_bound
from apps.face_engine.types import PendingKeyFrame

from . import retention
from .services import checks, frames, key_frames, lifecycle, recovery, verdict

logger = logging.getLogger(__name__)


def key_frame_embed_request(*, session_id: str, gen: str, key: PendingKeyFrame) -> None:
    """Queue one key frame for the low-priority "keys" worker (embedded mode: it runs here and now).

    The face crop stays in the cache, gone with the session or after ``KEY_EMBED_EXPIRES_S``; the message holds
    only its reference: without a key-frame worker nobody takes it, and it would keep the face in the broker. The
    face's landmarks in the crop (``key.points``) stay with it, for the same reason."""
    crop = key_frames.key_crop_keep(session_id=session_id, jpeg=key.jpeg, points=key.points)
    if crop is None:
        return  # the session has ended
    # Useful only until this attempt's verdict: a backlog (or no key worker at all) is dropped, not worked off.
    args = (session_id, gen, key.t, crop, list(key.box) if key.box else None)
    key_frame_embed.apply_async(args, expires=key_frames.KEY_EMBED_EXPIRES_S)
    broker_queue_bound(queue="keys", keep=key_frames.KEY_QUEUE_MAX, idle_seconds=key_frames.KEY_EMBED_EXPIRES_S)


def frame_analyze_request(*, session_id: str, gen: str, seq: int, frame: bytes, received_at: float) -> None:
    """Queue one frame on the "frames" queue (embedded mode: analyse it here and now)."""
    frame_b64 = frames.frame_encode(frame)
    frame_analyze.delay(session_id, gen, seq, frame_b64, received_at, time.time())


@shared_task(name="apps.sessions.tasks.frame_analyze", ignore_result=True, acks_late=False)
def frame_analyze(
    session_id: str, gen: str, seq: int, frame_b64: str, received_at: float, enqueued_at: float = 0.0
) -> None:
    # acks_late off: a frame is worthless seconds later, so a lost one is never redelivered.
    frames.session_frame_analyze(
        session_id=session_id,
        gen=gen,
        seq=seq,
        frame_b64=frame_b64,
        received_at=received_at,
        enqueued_at=enqueued_at,
        key_frame_request=key_frame_embed_request,
    )


@shared_task(name="apps.sessions.tasks.session_check", ignore_result=True, acks_late=False)
def session_check(session_id: str, frame: int, frame_b64: str) -> None:
    # A continuous-check sample (the SDK's headless mode): worthless once the next one is due, never redelivered.
    checks.session_check_run(session_id=session_id, frame=frame, frame_b64=frame_b64)


@shared_task(name="apps.sessions.tasks.key_frame_embed", ignore_result=True, acks_late=False)
def key_frame_embed(session_id: str, gen: str, t: float, crop: int | str, box: list[int] | None = None) -> None:
    # Queue "keys", served by a low-priority worker; a lost one is computed by the verdict instead. ``crop``: the
    # reference of the face crop kept in the cache; ``box``: the tracked face in it.
    if not isinstance(crop, int):
        return  # queued by an older version, with the crop itself: long expired, and its verdict has computed it
    key_frames.session_key_frame_embed(session_id=session_id, gen=gen, t=t, crop=crop, box=box)


@shared_task(name="apps.sessions.tasks.session_decide", ignore_result=True)
def session_decide(session_id: str, gen: str) -> None:
    # The frame task that completes a capture decides in place; this task re-runs a decision
    # (idempotent) for a session left in "analysing", e.g. after a worker died.
    verdict.session_decide(session_id=session_id, gen=gen)


def _decide_request(session_id: str, gen: str) -> None:
    """Queue a verdict again. On the embedded default (eager tasks) it runs right here: one session's verdict
    that fails must not stop the sweep, and with it the expiry or recovery of every other session."""
    try:
        session_decide.delay(session_id, gen)
    except Exception:
        logger.exception("The verdict of session %s could not be requested again", session_id)


@shared_task(name="apps.sessions.tasks.sessions_expire", ignore_result=True)
def sessions_expire() -> int:
    lifecycle.sessions_rescue_stuck(decide=_decide_request)
    lifecycle.sessions_photos_purge()
    return lifecycle.sessions_expire_due()


@shared_task(name="apps.sessions.tasks.sessions_retention_purge", ignore_result=True)
def sessions_retention_purge() -> int:
    # Hourly: ICAO photos go with the result window, the other personal fields after SESSION_RETENTION_DAYS.
    return lifecycle.sessions_photos_purge() + retention.sessions_personal_data_purge()


@shared_task(name="apps.sessions.tasks.sessions_recover", ignore_result=True)
def sessions_recover() -> int:
    # Every few seconds: a killed worker's session gets its verdict (re-)computed or re-published.
    return recovery.sessions_rescue_analysing(decide=_decide_request) + recovery.sessions_results_announce()
