"""Celery tasks of the capture area (queues "frames" and "keys"). Thin: JSON arguments in, one service call."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="apps.sessions.tasks.frame_analyze", ignore_result=True, acks_late=False)
def frame_analyze(session_id: str, gen: str, seq: int, frame_b64: str, received_at: float) -> None:
    # acks_late off: a frame is worthless seconds later, so a lost one is never redelivered.
    services.session_frame_analyze(
        session_id=session_id, gen=gen, seq=seq, frame_b64=frame_b64, received_at=received_at
    )


@shared_task(name="apps.sessions.tasks.key_frame_embed", ignore_result=True, acks_late=False)
def key_frame_embed(session_id: str, gen: str, t: float, frame_b64: str) -> None:
    # Queue "keys", served by a low-priority worker; a lost one is computed by the verdict instead.
    services.session_key_frame_embed(session_id=session_id, gen=gen, t=t, frame_b64=frame_b64)


@shared_task(name="apps.sessions.tasks.session_decide", ignore_result=True)
def session_decide(session_id: str, gen: str) -> None:
    # The frame task that completes a capture decides in place; this task re-runs a decision
    # (idempotent) for a session left in "analysing", e.g. after a worker died.
    services.session_decide(session_id=session_id, gen=gen)


@shared_task(name="apps.sessions.tasks.sessions_expire", ignore_result=True)
def sessions_expire() -> int:
    services.sessions_rescue_stuck()
    services.sessions_photos_purge()
    return services.sessions_expire_due()
