"""The verdict: the engine decides a finished capture; the session stores it exactly once."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.core.engine import get_engine
from apps.face_engine.types import Verdict
from apps.faces.services import embedding_model_version, face_recognition_apply, session_face_record
from apps.webhooks.event_types import EventType

from ..models import Session
from ..state_store import capture_record_delete, capture_record_get
from .create import capture_state_load
from .key_frames import key_frames_with_embeddings
from .lifecycle import session_result_notify, webhook_event_record_safe


def session_decide(*, session_id: str, gen: str) -> None:
    """Ask the engine for the verdict of a finished capture and store it (idempotent)."""
    session = Session.objects.filter(id=session_id, status=Session.Status.ANALYSING).first()
    if session is None:
        return
    record = capture_record_get(session_id=str(session_id))
    if record is None or record["gen"] != gen:
        return
    engine = get_engine()
    state = key_frames_with_embeddings(
        engine, session_id=str(session_id), gen=gen, state=capture_state_load(engine, record)
    )
    verdict = engine.decide(state)
    session_verdict_record(session=session, verdict=verdict)


def _age_result(config: dict[str, Any], estimated_age: float | None) -> str:
    block = (config.get("verifierConfigs") or {}).get("age") or {}
    kind = block.get("type", "Disabled")
    if kind == "Disabled":
        return "NotExecuted"
    if estimated_age is None:
        return "Fail"
    if kind == "ThresholdVerification":
        threshold = float(block.get("threshold", 18))
        below = str(block.get("direction", block.get("thresholdDirection", "Above"))) == "Below"
        ok = estimated_age < threshold if below else estimated_age >= threshold
        return "Pass" if ok else "Fail"
    return "Pass"


def _gender_result(config: dict[str, Any], estimated_gender: str | None) -> str:
    block = (config.get("verifierConfigs") or {}).get("gender") or {}
    if block.get("type", "Disabled") == "Disabled":
        return "NotExecuted"
    return "Pass" if estimated_gender else "Fail"


def session_verdict_record(*, session: Session, verdict: Verdict) -> bool:
    """Write the verdict exactly once (conditional UPDATE from analysing), then tell the socket.

    A "retry" verdict with attempts left sends the session back to in_progress
    instead; the browser offers a retry button.
    """
    config = session.config or {}
    reasons = [str(r) for r in verdict.reasons]
    if verdict.verdict == "retry" and session.attempt < session.max_attempts:
        updated = Session.objects.filter(
            id=session.id, status=Session.Status.ANALYSING, attempt=session.attempt
        ).update(status=Session.Status.IN_PROGRESS, verdict="retry", verification_failed_reasons=reasons)
        if updated == 1:
            session.refresh_from_db()
            session_result_notify(session=session)
        return updated == 1

    liveness_enabled = ((config.get("verifierConfigs") or {}).get("liveness") or {}).get("type", "Verification") != (
        "Disabled"
    )
    live = verdict.verdict == "pass"
    if verdict.verdict == "retry":
        reasons.append("attemptsExhausted")
    age_gender = verdict.age_gender
    estimated_age = round(float(age_gender.estimated_age), 1) if age_gender else None
    estimated_gender = age_gender.estimated_gender if age_gender else None
    fields: dict[str, Any] = {
        "status": Session.Status.COMPLETED,
        "completed_at": timezone.now(),
        "verdict": verdict.verdict,
        "liveness_result": ("Pass" if live else "Fail") if liveness_enabled else "NotExecuted",
        "age_result": _age_result(config, estimated_age),
        "estimated_age": estimated_age,
        "gender_result": _gender_result(config, estimated_gender),
        "estimated_gender": estimated_gender,
        "total_face_count": int(verdict.total_face_count),
        "confidence": float(verdict.confidence),
        "scores": {k: round(float(v), 4) for k, v in verdict.scores.items()},
        "challenge_outcomes": {k: bool(v) for k, v in verdict.challenge_outcomes.items()},
        "engine": str(verdict.engine),
        "model_versions": dict(verdict.versions),
    }
    if fields["age_result"] == "Fail":
        reasons.append("ageVerificationFailed")
    common = (config.get("verifierConfigs") or {}).get("commonSettings") or {}
    if common.get("failOnMultipleFacesDetected") and fields["total_face_count"] > 1 and "multipleFaces" not in reasons:
        reasons.append("multipleFaces")

    with transaction.atomic():
        recognition_block = (config.get("verifierConfigs") or {}).get("faceRecognition") or {}
        fields["face_recognition_result"] = "NotExecuted"
        no_veto = not any(r in ("multipleFaces", "ageVerificationFailed") for r in reasons)
        if live and no_veto and recognition_block.get("type", "Disabled") != "Disabled" and verdict.embedding:
            outcome = face_recognition_apply(
                account=session.account,
                config=recognition_block,
                embedding=tuple(verdict.embedding),
                engine=str(verdict.engine),
                model_version=embedding_model_version(dict(verdict.versions)),
                external_id=session.external_id,
                session_id=session.id,
            )
            fields["face_recognition_result"] = outcome.result
            fields["face_id"] = outcome.face_id
            reasons.extend(outcome.reasons)
        elif live and no_veto and verdict.embedding:
            # Every passed session stays comparable through /v1/face/compare.
            session_face_record(
                account=session.account,
                session_id=session.id,
                embedding=tuple(verdict.embedding),
                engine=str(verdict.engine),
                model_version=embedding_model_version(dict(verdict.versions)),
            )
        failed = (
            (liveness_enabled and not live)
            or fields["age_result"] == "Fail"
            or fields["face_recognition_result"] == "Fail"
            or "multipleFaces" in reasons
        )
        fields["verification_result"] = "Fail" if failed else "Pass"
        fields["verification_failed_reasons"] = list(dict.fromkeys(reasons)) if failed else []
        if not failed and verdict.icao is not None:
            fields["icao_jpeg"] = bytes(verdict.icao.jpeg)
            fields["icao_checks"] = {k: bool(v) for k, v in verdict.icao.checks.items()}
        updated = Session.objects.filter(
            id=session.id, status=Session.Status.ANALYSING, attempt=session.attempt
        ).update(**fields)
        if updated != 1:
            # Another worker stored the verdict first: undo this run's face writes too.
            transaction.set_rollback(True)
            return False
        session.refresh_from_db()
        webhook_event_record_safe(session=session, event_type=EventType.SESSION_COMPLETED)
    # The capture state holds face crops: it goes as soon as the verdict is stored.
    capture_record_delete(session_id=str(session.id))
    session_result_notify(session=session)
    return True
