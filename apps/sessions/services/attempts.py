"""Every attempt of a session, kept for the operator console: its outcome, scores, signal timeline and thumbnails.

The verdict, a cancel or an expiry writes one ``SessionAttempt`` row (once: the row is
unique per session and number) from what the attempt's capture record holds: the
engine state (measure series, landmarks, key frames) and the per-frame log the frame
service keeps (``frame_log_append``). A retry then starts the next attempt on the
session row without losing this one.
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple

from django.db import transaction
from django.utils import timezone

from apps.core.metrics import EngineTimer
from apps.face_engine.state import CaptureData
from apps.face_engine.timeline import Thumbnail, capture_thumbnails, capture_timeline
from apps.face_engine.types import CaptureState, FrameError, FrameResult, Verdict

from ..models import AttemptThumbnail, Session, SessionAttempt
from ..state_store import CaptureRecord, capture_blobs_get

logger = logging.getLogger(__name__)

# About two minutes at 10 fps: longer captures keep their first frames' log only.
MAX_LOG_FRAMES = 1200


def frame_log_append(record: CaptureRecord, *, t: float, result: FrameResult) -> None:
    """Note one analysed frame in the attempt's log: time, faces, feedback codes, the challenge shown."""
    log = record.setdefault("log", [])
    if len(log) < MAX_LOG_FRAMES:
        log.append([round(t, 3), int(result.face_count), list(result.feedback), result.current_challenge])


class AttemptEvidence(NamedTuple):
    timeline: dict[str, Any]
    thumbs: list[Thumbnail]


def attempt_evidence(session_id: str, record: CaptureRecord | None, state: CaptureState | None) -> AttemptEvidence:
    """The timeline JSON and thumbnails of an attempt; empty when its capture never got a frame.

    Without ``state`` (a cancel, an expiry, a reload) the record's stored state is read, its JPEGs put back,
    without loading an engine (and its models). CPU work (timeline series, thumbnail JPEGs): the verdict
    makes it before its transaction, so the row locks that transaction takes are not held through it."""
    log = list(record.get("log") or []) if record is not None else []
    try:
        if state is None and record is not None and record["state"]:
            state = CaptureData.from_json(record["state"], capture_blobs_get(session_id=session_id, record=record))
        if state is None:
            return AttemptEvidence({"frames": log} if log else {}, [])
        with EngineTimer("attempt_evidence"):  # the engine's own work: the timeline and its thumbnail JPEGs
            timeline = capture_timeline(state).to_json()
            thumbs = capture_thumbnails(state)
    except (FrameError, ValueError, TypeError) as exc:  # a state from another engine version: keep the rest
        logger.warning("attempt timeline unavailable: %s", exc)
        return AttemptEvidence({"frames": log} if log else {}, [])
    return AttemptEvidence({**timeline, "frames": log}, thumbs)


def session_attempt_record(
    *,
    session: Session,
    outcome: SessionAttempt.Outcome,
    reasons: list[str],
    record: CaptureRecord | None,
    state: CaptureState | None = None,
    verdict: Verdict | None = None,
    evidence: AttemptEvidence | None = None,
) -> SessionAttempt | None:
    """Keep the attempt that just ended (number ``session.attempt``, 1 from the first connect); None when kept.

    ``evidence``: ``attempt_evidence`` made beforehand (else made here from ``record`` and ``state``)."""
    number = max(int(session.attempt), 1)
    if evidence is None:
        # The evidence reads the capture from Redis: not for an attempt already kept (get_or_create still decides).
        if SessionAttempt.objects.filter(session=session, number=number).exists():
            return None
        evidence = attempt_evidence(str(session.id), record, state)
    timeline, thumbs = evidence
    fields: dict[str, Any] = {
        "outcome": outcome,
        "reasons": list(reasons),
        "started_at": session.attempt_started_at,
        "ended_at": timezone.now(),
        "challenges": list(session.challenges or []),
        "frames": len(timeline.get("frames") or []),
        "timeline": timeline,
    }
    if verdict is not None:
        fields.update(
            engine=str(verdict.engine),
            confidence=float(verdict.confidence),
            scores={k: round(float(v), 4) for k, v in verdict.scores.items()},
            challenge_outcomes={k: bool(v) for k, v in verdict.challenge_outcomes.items()},
        )
    # Inside the verdict's transaction no savepoint of its own: a failure here fails the verdict's write anyway.
    with transaction.atomic(savepoint=False):
        attempt, created = SessionAttempt.objects.get_or_create(session=session, number=number, defaults=fields)
        if not created:
            return None
        AttemptThumbnail.objects.bulk_create(
            AttemptThumbnail(attempt=attempt, t=thumb.t, kind=thumb.kind, jpeg=thumb.jpeg) for thumb in thumbs
        )
    return attempt
