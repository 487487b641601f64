"""The verdict: the engine decides a finished capture; the session stores it exactly once."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.audit.models import AuditEventType
from apps.audit.services import audit_record
from apps.core.engine import get_engine
from apps.core.metrics import VERDICTS, EngineTimer
from apps.face_engine.types import CaptureState, Verdict
from apps.faces.recognition import face_recognition_apply
from apps.faces.services import NOT_EXECUTED, FaceRecognitionOutcome, embedding_model_version
from apps.faces.session_faces import session_face_keep
from apps.verifications.session_config import FaceRecognitionConfig
from apps.webhooks.event_types import EventType

from ..models import Session, SessionAttempt
from ..session_locks import session_lock
from ..state_store import CaptureRecord, capture_blobs_get, capture_record_delete, capture_record_get
from ..verdict_rules import VerifierResults, liveness_verdict, session_outcome, verifier_results
from .attempts import attempt_evidence, session_attempt_record
from .create import capture_state_load
from .devices import device_risk_signals, user_device_note
from .entry import age_margin, bound_user_age, user_recognise
from .key_frames import key_frames_with_embeddings
from .lifecycle import session_result_notify, webhook_event_record_safe


def session_decide(*, session_id: str, gen: str, lock_wait: float = 0.0, session: Session | None = None) -> bool:
    """Ask the engine for the verdict of a finished capture and store it (idempotent).

    Holds the session's lock while deciding: a session left analysing with its lock free
    has lost its worker, and the recovery sweep queues this again. True when this call stored it.
    ``lock_wait``: seconds to wait for a frame that still holds the lock (the completing worker
    waits; without it, a late frame of the same session could leave the verdict to the sweep).
    ``session``: the row (with its account) as the caller just read it in ``analysing``; read here otherwise.
    Another worker that stored the verdict meanwhile has deleted the capture record, and the verdict's
    UPDATE is conditional on ``analysing`` and the attempt either way.
    """
    with session_lock(session_id=str(session_id), wait=lock_wait) as acquired:
        if not acquired:
            return False  # another live worker is on it
        if session is None:
            # The account comes along: the face it keeps and the webhook both need it (a query each otherwise).
            session = (
                Session.objects.select_related("account").filter(id=session_id, status=Session.Status.ANALYSING).first()
            )
        if session is None or session.status != Session.Status.ANALYSING:
            return False
        record = capture_record_get(session_id=str(session_id))
        if record is None or record["gen"] != gen:
            return False
        engine = get_engine()
        state = key_frames_with_embeddings(
            engine,
            session_id=str(session_id),
            gen=gen,
            state=capture_state_load(engine, record, capture_blobs_get(session_id=str(session_id), record=record)),
        )
        with EngineTimer("decide"):
            verdict = engine.decide(state)
        return session_verdict_record(session=session, verdict=verdict, record=record, state=state)


def session_verdict_record(
    *, session: Session, verdict: Verdict, record: CaptureRecord | None = None, state: CaptureState | None = None
) -> bool:
    """Write the verdict exactly once (conditional UPDATE from analysing), then tell the socket.

    A "retry" verdict with attempts left sends the session back to in_progress
    instead; the browser offers a retry button. A config's own liveness thresholds re-grade
    the engine's verdict first (``verdict_rules.liveness_verdict``).
    Either way the attempt is kept as a ``SessionAttempt`` (with the timeline of ``record`` and ``state``).
    """
    verifiers = session.typed_config.verifiers
    name = liveness_verdict(
        engine_verdict=verdict.verdict,
        confidence=float(verdict.confidence),
        reasons=[str(r) for r in verdict.reasons],
        pass_threshold=verifiers.liveness.pass_threshold,
        retry_threshold=verifiers.liveness.retry_threshold,
        engine_pass=float(settings.LIVENESS_PASS_THRESHOLD),
        engine_retry=float(settings.LIVENESS_RETRY_THRESHOLD),
    )
    if name == "retry" and session.attempt < session.max_attempts:
        again = {
            "status": Session.Status.IN_PROGRESS,
            "verdict": "retry",
            "verification_failed_reasons": [str(r) for r in verdict.reasons],
            **_verdict_figures(verdict),
        }
        updated = Session.objects.filter(
            id=session.id, status=Session.Status.ANALYSING, attempt=session.attempt
        ).update(**again)
        if updated == 1:
            _written(session, **again)
            session_attempt_record(
                session=session,
                outcome=SessionAttempt.Outcome.RETRY,
                reasons=list(session.verification_failed_reasons),
                record=record,
                state=state,
                verdict=verdict,
            )
            _verdict_count(result="retry", reasons=[str(r) for r in verdict.reasons])
            session_result_notify(session=session)
        return updated == 1
    age_gender = verdict.age_gender
    estimated_age = round(float(age_gender.estimated_age), 1) if age_gender else None
    estimated_gender = age_gender.estimated_gender if age_gender else None
    results = verifier_results(
        verifiers=verifiers,
        verdict=name,
        reasons=verdict.reasons,
        estimated_age=estimated_age,
        estimated_gender=estimated_gender,
        total_face_count=int(verdict.total_face_count),
        age_margin=age_margin(verifiers.age),
        date_of_birth_age=bound_user_age(session=session),
    )
    fields: dict[str, Any] = {
        "status": Session.Status.COMPLETED,
        "completed_at": timezone.now(),
        "verdict": name,
        "liveness_result": results.liveness,
        "minor": results.minor,
        "age_result": results.age,
        "estimated_age": estimated_age,
        "gender_result": results.gender,
        "estimated_gender": estimated_gender,
        "total_face_count": int(verdict.total_face_count),
        **_verdict_figures(verdict),
        "engine": str(verdict.engine),
        "model_versions": dict(verdict.versions),
    }
    signals = list(results.risk_signals)
    # Made before the transaction: the face collection's row lock it takes serialises the account's verdicts.
    evidence = attempt_evidence(str(session.id), record, state)
    with transaction.atomic():
        recognition = _face_keep(session=session, verdict=verdict, config=verifiers.face_recognition, results=results)
        if verifiers.face_recognition.searches_users and results.recognition_allowed and verdict.embedding:
            user = user_recognise(
                session=session, verdict=verdict, config=verifiers.face_recognition, estimated_age=estimated_age
            )
            recognition = FaceRecognitionOutcome(result=user.result, face_id=recognition.face_id, reasons=user.reasons)
            fields["entry_user_id"], fields["user_similarity"] = user.entry_user_id, user.similarity
            signals.extend(s for s in user.risk_signals if s not in signals)
        bound_user = fields.get("entry_user_id", session.entry_user_id)
        signals.extend(s for s in device_risk_signals(session=session, entry_user_id=bound_user) if s not in signals)
        fields["risk_signals"] = signals
        outcome = session_outcome(
            results=results, face_recognition=recognition.result, recognition_reasons=recognition.reasons
        )
        fields["face_recognition_result"] = recognition.result
        if recognition.face_id is not None:
            fields["face_id"] = recognition.face_id
        fields["verification_result"] = outcome.verification_result
        fields["verification_failed_reasons"] = list(outcome.failed_reasons)
        if not outcome.failed and verdict.icao is not None and not results.minor:
            fields["icao_jpeg"] = bytes(verdict.icao.jpeg)
            fields["icao_checks"] = {k: bool(v) for k, v in verdict.icao.checks.items()}
        updated = Session.objects.filter(
            id=session.id, status=Session.Status.ANALYSING, attempt=session.attempt
        ).update(**fields)
        if updated != 1:
            # Another worker stored the verdict first: undo this run's face writes too.
            transaction.set_rollback(True)
            return False
        _written(session, **fields)
        user_device_note(session=session)
        session_attempt_record(
            session=session,
            outcome=SessionAttempt.Outcome.PASS if session.passed else SessionAttempt.Outcome.FAIL,
            reasons=list(session.verification_failed_reasons),
            record=record,
            state=state,
            verdict=verdict,
            evidence=evidence,
        )
        webhook_event_record_safe(session=session, event_type=EventType.SESSION_COMPLETED)
        audit_record(
            account_id=session.account_id,
            type=AuditEventType.SESSION_VERDICT,
            actor="system",
            subject_type="session",
            subject_id=session.id,
            details={
                "verificationResult": str(session.verification_result),
                "reasons": list(session.verification_failed_reasons or []),
                "entryUserId": str(session.entry_user_id) if session.entry_user_id else None,
            },
        )
    _verdict_count(result=str(session.verification_result), reasons=list(session.verification_failed_reasons))
    # The capture state holds face crops: it goes as soon as the verdict is stored.
    capture_record_delete(session_id=str(session.id), record=record)
    session_result_notify(session=session)
    return True


def _verdict_figures(verdict: Verdict) -> dict[str, Any]:
    """What the engine measured, stored with a retry as with a final verdict (002: retry reads its confidence)."""
    return {
        "confidence": float(verdict.confidence),
        "scores": {k: round(float(v), 4) for k, v in verdict.scores.items()},
        "challenge_outcomes": {k: bool(v) for k, v in verdict.challenge_outcomes.items()},
    }


def _written(session: Session, **fields: Any) -> None:
    """What the verdict's conditional UPDATE wrote, on the row in hand: the row is the session's lock holder's,
    and reading it back (ten JSON columns) cost a round trip and more CPU than the write."""
    for name, value in fields.items():
        setattr(session, name, value)


def _verdict_count(*, result: str, reasons: list[str]) -> None:
    for reason in reasons or ["none"]:
        VERDICTS.labels(result=result, reason=reason).inc()


def _face_keep(
    *, session: Session, verdict: Verdict, config: FaceRecognitionConfig, results: VerifierResults
) -> FaceRecognitionOutcome:
    """Recognise the face in the configured collection, or keep it for compare with a faceId (live, unvetoed only)."""
    if not results.recognition_allowed or not verdict.embedding:
        return NOT_EXECUTED
    embedding = tuple(verdict.embedding)
    model_version = embedding_model_version(dict(verdict.versions))
    if config.enabled and not config.searches_users:
        return face_recognition_apply(
            account=session.account,
            config=config,
            embedding=embedding,
            engine=str(verdict.engine),
            model_version=model_version,
            external_id=session.external_id,
            session_id=session.id,
        )
    # Every passed session stays comparable through /v1/face/compare and gets the person's faceId (000).
    face_id = session_face_keep(
        account=session.account,
        session_id=session.id,
        embedding=embedding,
        engine=str(verdict.engine),
        model_version=model_version,
    )
    return replace(NOT_EXECUTED, face_id=face_id)
