"""Session writes: creation, the capture state machine and the verdict.

Lifecycle: created -> in_progress -> analysing -> completed (Pass/Fail)
| expired | cancelled. A "retry" verdict sends the session back to in_progress
while attempts remain. Every transition is a conditional UPDATE, so a repeated
or racing task (two workers, a redelivered message) changes nothing twice.
"""

from __future__ import annotations

import base64
import copy
import json
import logging
import time
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import Account
from apps.core.errors import ApplicationError
from apps.core.exceptions import flatten_errors

from .events import (
    ChallengeMessage,
    FeedbackMessage,
    FrameAnalysedEvent,
    FrameSkippedEvent,
    ProgressMessage,
    ResultMessage,
    ServerMessage,
    StateMessage,
)
from .models import Session, UsedSessionToken
from .notifier import notify, notify_message
from .selectors import session_result_payload
from .state_store import (
    CaptureRecord,
    capture_record_delete,
    capture_record_get,
    capture_record_put,
    key_embedding_put,
    key_embeddings_get,
    session_lock,
)
from .tokens import SessionTokenError, session_token_decode, session_token_issue

logger = logging.getLogger(__name__)

CHALLENGE_COUNTS = {"Passive": 0, "Balanced": 2, "Advanced": 4}
_OVERRIDE_FLAGS = {
    "verifierConfigs": "allowVerifierOverrides",
    "resultParameterConfig": "allowResultParameterOverrides",
    "redirectConfig": "allowRedirectOverrides",
    "webhookConfig": "allowWebhookOverrides",
}


def engine_warm_up() -> None:
    """Load the face models in the background when this process will analyse frames itself (embedded mode)."""
    from django.conf import settings

    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        import threading

        threading.Thread(target=_engine, name="engine-warm-up", daemon=True).start()


def _engine() -> Any:
    # Looked up at call time: tests swap the engine, and the engine area owns the module.
    from apps.core import engine

    return engine.get_engine()


# --- creation -----------------------------------------------------------------------------


def _validated_block(key: str, raw: Any) -> dict[str, Any]:
    from apps.verifications import serializers as vs

    serializer_class = {
        "verifierConfigs": vs.VerifierConfigsSerializer,
        "redirectConfig": vs.RedirectConfigSerializer,
        "resultParameterConfig": vs.ResultParameterConfigSerializer,
        "webhookConfig": vs.WebhookConfigSerializer,
    }[key]
    serializer = serializer_class(data=raw)
    if not serializer.is_valid():
        raise ApplicationError(
            "The request has invalid fields.", code="invalid", fields=flatten_errors(serializer.errors, key)
        )
    value = json.loads(json.dumps(serializer.validated_data))
    if key == "verifierConfigs" and isinstance(raw, dict):
        # Overrides replace only the verifiers actually sent; the rest stay as stored.
        value = {name: block for name, block in value.items() if name in raw}
    return value


def _effective_config(
    *, account: Account, body: dict[str, Any], verification_id: uuid.UUID | None, overrides: dict[str, Any] | None
) -> dict[str, Any]:
    """The frozen verificationConfig of a new session: stored config plus the overrides it allows."""
    from apps.verifications.services import verification_config_parse

    keys = tuple(_OVERRIDE_FLAGS)
    requested = {k: body[k] for k in keys if body.get(k) is not None}
    requested.update({k: v for k, v in (overrides or {}).items() if k in keys and v is not None})
    if verification_id is None:
        if "verifierConfigs" not in requested:
            raise ApplicationError(
                "The request has invalid fields.",
                code="invalid",
                fields={"verifierConfigs": ["This field is required unless verificationId is given."]},
            )
        config = verification_config_parse(data=requested, field_prefix="")
        # No stored configuration vouches for these targets: each one is an override.
        _redirect_overrides_check(account=account, stored={}, block=config.get("redirectConfig") or {})
        return config
    from apps.verifications.selectors import verification_get

    stored = verification_get(account=account, verification_id=verification_id)
    config: dict[str, Any] = copy.deepcopy(stored.config or {})
    allowed = config.get("sessionOverrideConfig") or {}
    refused = {
        key: ["The verification's sessionOverrideConfig does not allow overriding this."]
        for key, flag in _OVERRIDE_FLAGS.items()
        if key in requested and not allowed.get(flag)
    }
    if refused:
        raise ApplicationError(
            "This session may not override the stored configuration.", code="override_not_allowed", fields=refused
        )
    for key, raw in requested.items():
        block = _validated_block(key, raw)
        if key == "redirectConfig":
            _redirect_overrides_check(account=account, stored=config.get("redirectConfig") or {}, block=block)
        config[key] = {**(config.get(key) or {}), **block} if key == "verifierConfigs" else block
    return config


def _redirect_overrides_check(*, account: Account, stored: dict[str, Any], block: dict[str, Any]) -> None:
    """A redirect URL the stored configuration does not hold must have an origin the account allows.

    That covers a session overriding a stored verification and a session created
    without one: no open redirects.
    """
    from apps.signing.redirects import redirect_override_check

    for name, url in block.items():
        if url and url != stored.get(name):
            redirect_override_check(account=account, url=url, field=f"redirectConfig.{name}")


def capture_plan_for(config: dict[str, Any]) -> tuple[str, list[str]]:
    """(mode, challenges) for a verificationConfig: liveness challengeType picks the count."""
    liveness = (config.get("verifierConfigs") or {}).get("liveness") or {}
    if liveness.get("type", "Verification") == "Disabled":
        return "passive", []
    count = CHALLENGE_COUNTS.get(liveness.get("challengeType") or "Balanced", 2)
    if count == 0:
        return "passive", []
    from apps.face_engine.challenges import challenges_draw

    # Distinct, unguessable, and never both turns in a row (one sweep cannot answer two challenges).
    return "active", list(challenges_draw(count=count))


def _max_attempts(config: dict[str, Any]) -> int:
    common = (config.get("verifierConfigs") or {}).get("commonSettings") or {}
    value = common.get("maxAttempts")
    return int(value) if isinstance(value, int) and value >= 1 else int(settings.SESSION_MAX_ATTEMPTS)


def session_create(
    *,
    account: Account,
    body: dict[str, Any],
    verification_id: uuid.UUID | str | None = None,
    custom_input_parameters: dict[str, Any] | None = None,
    external_id: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> Session:
    """Create a session from a validated create-session body (and/or a stored verification).

    ``body`` holds the create-session fields (``name``, ``externalId``,
    ``verifierConfigs``, ``webhookConfig``, optionally ``redirectConfig``,
    ``resultParameterConfig``, ``customInputParameters``); ``overrides`` are
    session-level overrides from a hosted link, checked against the stored
    configuration's ``sessionOverrideConfig`` like the body's.
    """
    if verification_id is None and body.get("verificationId"):
        verification_id = body["verificationId"]
    vid = uuid.UUID(str(verification_id)) if verification_id else None
    config = _effective_config(account=account, body=body, verification_id=vid, overrides=overrides)
    mode, challenges = capture_plan_for(config)
    now = timezone.now()
    return Session.objects.create(
        account=account,
        verification_id=vid,
        name=str(body.get("name") or ""),
        external_id=external_id if external_id is not None else body.get("externalId"),
        custom_input_parameters=custom_input_parameters or body.get("customInputParameters") or {},
        config=config,
        mode=mode,
        challenges=challenges,
        max_attempts=_max_attempts(config),
        expires_at=now + timedelta(seconds=int(settings.SESSION_TTL_SECONDS)),
    )


# --- socket authentication ----------------------------------------------------------------


class ConnectRefusedError(Exception):
    """Why a socket may not attach to a session; ``close_code`` is the documented WebSocket close code."""

    def __init__(self, code: str, message: str, close_code: int) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.close_code = close_code


def session_connect(*, session_id: str, token: str) -> tuple[Session, str]:
    """Spend ``token`` on ``session_id`` and start (or restart) its current attempt.

    Returns the session and a fresh single-use resume token for reconnecting.
    Raises ConnectRefusedError (bad/expired token, another session's token, unknown
    or finished session, token already used).
    """
    try:
        claims = session_token_decode(token=token)
    except SessionTokenError as exc:
        raise ConnectRefusedError(exc.code, str(exc), 4401) from exc
    if claims.session_id != str(session_id):
        raise ConnectRefusedError("wrongSession", "This token belongs to another session.", 4403)
    session = Session.objects.filter(id=session_id).first()
    if session is None:
        raise ConnectRefusedError("unknownSession", "This session does not exist.", 4404)
    if session.status in Session.UNFINISHED and session.expires_at <= timezone.now():
        session_expire(session_id=session.id)
        session.refresh_from_db()
    try:
        with transaction.atomic():
            UsedSessionToken.objects.create(jti=claims.jti, session=session)
    except IntegrityError as exc:
        raise ConnectRefusedError("tokenUsed", "This session token was already used.", 4409) from exc
    resume = session_token_issue(session_id=session.id)
    if session.is_finished:
        return session, resume
    if session.status == Session.Status.CREATED:
        now = timezone.now()
        Session.objects.filter(id=session.id, status=Session.Status.CREATED).update(
            status=Session.Status.IN_PROGRESS, attempt=1, started_at=now
        )
        session.refresh_from_db()
    if session.status == Session.Status.IN_PROGRESS and session.verdict != "retry":
        # A (re)connecting browser restarts the current attempt cleanly; it costs no attempt.
        capture_attempt_reset(session=session)
    return session, resume


def capture_attempt_reset(*, session: Session) -> CaptureRecord:
    """Fresh state for the session's current attempt; older queued frames become stale.

    The engine state itself is created by the worker on the first frame, so the
    web process never loads the face models.
    """
    config = session.config or {}
    common = (config.get("verifierConfigs") or {}).get("commonSettings") or {}
    plan = {
        "mode": "passive" if session.mode == "passive" else "active",
        "challenges": list(session.challenges),
        "fail_on_multiple_faces": bool(common.get("failOnMultipleFacesDetected", False)),
        "want_age_gender": _wants(config, "age") or _wants(config, "gender"),
        "want_embedding": _wants(config, "faceRecognition"),
        "want_icao": True,
    }
    record: CaptureRecord = {
        "gen": uuid.uuid4().hex,
        "seq": 0,
        "plan": plan,
        "state": "",
        # The engine names the first challenge once it has the user's neutral baseline.
        "challenge": None,
        "complete": False,
        "t0": 0.0,
        "total": len(session.challenges),
    }
    capture_record_put(session_id=str(session.id), record=record)
    Session.objects.filter(id=session.id).update(attempt_started_at=timezone.now())
    return record


def _wants(config: dict[str, Any], verifier: str) -> bool:
    block = (config.get("verifierConfigs") or {}).get(verifier) or {}
    return bool(block) and block.get("type", "Disabled") != "Disabled"


def session_state_message(*, session: Session, resume_token: str | None = None) -> StateMessage:
    message: StateMessage = {
        "type": "state",
        "status": session.status,
        "mode": session.mode,
        "attempt": session.attempt,
        "maxAttempts": session.max_attempts,
        "challengesTotal": len(session.challenges),
    }
    if resume_token:
        message["resumeToken"] = resume_token
    return message


def session_result_message(*, session: Session) -> ResultMessage | None:
    """The result message for a finished (or retry-waiting) session, read from the database."""
    from apps.signing.redirects import result_redirect_url

    attempts_left = max(session.max_attempts - session.attempt, 0)
    if session.status == Session.Status.IN_PROGRESS and session.verdict == "retry":
        return {
            "type": "result",
            "verdict": "retry",
            "verificationResult": None,
            "reasons": list(session.verification_failed_reasons),
            "attemptsLeft": attempts_left,
            "redirectUrl": None,
        }
    if session.status not in (Session.Status.COMPLETED, Session.Status.EXPIRED, Session.Status.CANCELLED):
        return None
    return {
        "type": "result",
        "verdict": "pass" if session.verification_result == "Pass" else "fail",
        "verificationResult": session.verification_result,
        "reasons": list(session.verification_failed_reasons),
        "attemptsLeft": 0,
        "redirectUrl": result_redirect_url(session=session),
    }


# --- frames ---------------------------------------------------------------------------------


def frame_encode(frame: bytes) -> str:
    return base64.b64encode(frame).decode("ascii")


def session_frame_analyze(*, session_id: str, gen: str, seq: int, frame_b64: str, received_at: float) -> None:
    """Run one frame through the engine and publish feedback; the last frame starts the analysis.

    A frame arriving while another frame of the same session is being analysed,
    or older than the last one analysed, is skipped rather than corrupting state.
    """
    from apps.face_engine.types import FrameError

    sid = str(session_id)
    # Stale only once the capture has started: the first frame may wait for the models to load.
    late = time.time() - received_at > float(settings.CAPTURE_STALE_FRAME_SECONDS)
    with session_lock(session_id=sid) as acquired:
        record = capture_record_get(session_id=sid) if acquired else None
        stale = record is not None and late and bool(record["t0"])
        if record is None or record["gen"] != gen or seq <= record["seq"] or record["complete"] or stale:
            skipped: FrameSkippedEvent = {"type": "capture.skipped", "seq": seq}
            notify(session_id=sid, event=skipped)
            return
        engine = _engine()
        try:
            frame = base64.b64decode(frame_b64, validate=True)
            # Engine time starts at the first analysed frame: a slow first model load must not eat the capture.
            record["t0"] = record["t0"] or received_at
            state = _capture_state(engine, record)
            known = {t for t, _ in engine.key_frames_pending(state)}
            result = engine.analyze_frame(state, frame, max(received_at - record["t0"], 0.0))
        except (FrameError, ValueError) as exc:
            record["seq"] = seq
            capture_record_put(session_id=sid, record=record)
            code = getattr(exc, "code", "badImage")
            bad: FrameAnalysedEvent = {
                "type": "capture.frame",
                "seq": seq,
                "messages": [{"type": "error", "code": "badFrame", "message": f"The frame is unusable ({code})."}],
            }
            notify(session_id=sid, event=bad)
            return
        messages = _frame_messages(record=record, result=result, seq=seq, total=record["total"])
        record.update(seq=seq, state=result.state.to_json(), challenge=result.current_challenge or record["challenge"])
        record["complete"] = bool(result.capture_complete)
        capture_record_put(session_id=sid, record=record)
    event: FrameAnalysedEvent = {"type": "capture.frame", "seq": seq, "messages": messages}
    notify(session_id=sid, event=event)
    for t, jpeg in engine.key_frames_pending(result.state):
        if t not in known:
            _key_frame_embed_request(session_id=sid, gen=gen, t=t, jpeg=jpeg)
    if result.capture_complete:
        session_capture_complete(session_id=sid, gen=gen)


def _capture_state(engine: Any, record: CaptureRecord) -> Any:
    from apps.face_engine.types import CapturePlan

    if record["state"]:
        return engine.load_capture(record["state"])
    plan = dict(record["plan"])
    return engine.new_capture(CapturePlan(**{**plan, "challenges": tuple(plan["challenges"])}))


def _frame_messages(*, record: CaptureRecord, result: Any, seq: int, total: int) -> list[ServerMessage]:
    feedback: FeedbackMessage = {
        "type": "feedback",
        "codes": list(result.feedback),
        "faceCount": int(result.face_count),
        "seq": seq,
    }
    messages: list[ServerMessage] = [feedback]
    if result.current_challenge and result.current_challenge != record.get("challenge"):
        challenge: ChallengeMessage = {
            "type": "challenge",
            "challenge": result.current_challenge,
            "index": int(result.challenges_done),
            "total": total,
        }
        messages.append(challenge)
    progress: ProgressMessage = {
        "type": "progress",
        "progress": round(float(result.progress), 3),
        "challengesDone": int(result.challenges_done),
        "challengesTotal": total,
    }
    messages.append(progress)
    return messages


def session_capture_complete(*, session_id: str, gen: str) -> bool:
    """in_progress -> analysing, once; then this worker computes the verdict.

    The verdict runs right here rather than as a new task: queued behind other
    sessions' frames it would wait for all of them first.
    """
    updated = Session.objects.filter(id=session_id, status=Session.Status.IN_PROGRESS).update(
        status=Session.Status.ANALYSING
    )
    if updated != 1:
        return False
    session = Session.objects.get(id=session_id)
    notify_message(session_id=str(session_id), message=session_state_message(session=session))
    session_decide(session_id=str(session_id), gen=gen)
    return True


# --- key-frame embeddings -------------------------------------------------------------------

KEY_EMBED_EXPIRES_S = 120


def _key_frame_embed_request(*, session_id: str, gen: str, t: float, jpeg: bytes) -> None:
    """Have the key-frame worker embed a new same-person key frame while the capture goes on.

    That worker runs at a lower CPU priority than the frame workers, so a descriptor
    (~70 ms) delays others' feedback as little as it can; whatever it has not done by
    the verdict, ``decide`` computes itself. Embedded default: it runs here and now.
    """
    from . import tasks

    frame_b64 = base64.b64encode(jpeg).decode("ascii")
    # Useful only until this attempt's verdict: a backlog (or no key worker at all) is dropped, not worked off.
    tasks.key_frame_embed.apply_async((session_id, gen, t, frame_b64), expires=KEY_EMBED_EXPIRES_S)


def session_key_frame_embed(*, session_id: str, gen: str, t: float, frame_b64: str) -> None:
    """Embed one key frame's face crop and keep the result for the verdict."""
    record = capture_record_get(session_id=session_id)
    if record is None or record["gen"] != gen:
        return  # a finished or restarted attempt: nobody will read it
    found = _engine().embed_key_frame(base64.b64decode(frame_b64))
    value = None if found is None else {"embedding": list(found.embedding), "spoof": found.spoof}
    key_embedding_put(session_id=session_id, gen=gen, t=t, value=value)


def _with_key_embeddings(engine: Any, *, session_id: str, gen: str, state: Any) -> Any:
    from apps.face_engine.types import KeyEmbedding

    times = [t for t, _ in engine.key_frames_pending(state)]
    found = key_embeddings_get(session_id=session_id, gen=gen, times=times) if times else {}
    ready = {t: KeyEmbedding(embedding=tuple(v["embedding"]), spoof=v["spoof"]) for t, v in found.items()}
    return engine.with_key_embeddings(state, ready) if ready else state


# --- verdict --------------------------------------------------------------------------------


def session_decide(*, session_id: str, gen: str) -> None:
    """Ask the engine for the verdict of a finished capture and store it (idempotent)."""
    session = Session.objects.filter(id=session_id, status=Session.Status.ANALYSING).first()
    if session is None:
        return
    record = capture_record_get(session_id=str(session_id))
    if record is None or record["gen"] != gen:
        return
    engine = _engine()
    state = _with_key_embeddings(engine, session_id=str(session_id), gen=gen, state=_capture_state(engine, record))
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


def session_verdict_record(*, session: Session, verdict: Any) -> bool:
    """Write the verdict exactly once (conditional UPDATE from analysing), then tell the socket.

    A "retry" verdict with attempts left sends the session back to in_progress
    instead; the browser offers a retry button.
    """
    from apps.faces.services import face_recognition_apply, session_face_record
    from apps.webhooks.services import webhook_event_record

    config = session.config or {}
    reasons = [str(r) for r in verdict.reasons]
    if verdict.verdict == "retry" and session.attempt < session.max_attempts:
        updated = Session.objects.filter(
            id=session.id, status=Session.Status.ANALYSING, attempt=session.attempt
        ).update(status=Session.Status.IN_PROGRESS, verdict="retry", verification_failed_reasons=reasons)
        if updated == 1:
            session.refresh_from_db()
            message = session_result_message(session=session)
            if message:
                notify_message(session_id=str(session.id), message=message)
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
                model_version=_embedding_model_version(verdict.versions),
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
                model_version=_embedding_model_version(verdict.versions),
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
        webhook_event_record(
            account=session.account,
            event_type="verification.session.completed",
            payload=session_result_payload(session=session),
            url=_webhook_url(config),
        )
    # The capture state holds face crops: it goes as soon as the verdict is stored.
    capture_record_delete(session_id=str(session.id))
    message = session_result_message(session=session)
    if message:
        notify_message(session_id=str(session.id), message=message)
    return True


def _embedding_model_version(versions: Any) -> str:
    try:
        from apps.faces.services import embedding_model_version
    except ImportError:  # the faces area names its pinning rule; without it the engine decides
        return ""
    return embedding_model_version(dict(versions))


def _webhook_url(config: dict[str, Any]) -> str | None:
    return ((config.get("webhookConfig") or {}).get("eventCallbackUrl")) or None


# --- retry, cancel, expiry ------------------------------------------------------------------


def session_retry(*, session_id: str) -> Session | None:
    """Start the next attempt after a "retry" verdict, or None when none is waiting."""
    session = Session.objects.filter(id=session_id).first()
    if session is None:
        return None
    _, challenges = capture_plan_for(session.config or {})
    updated = Session.objects.filter(
        id=session_id,
        status=Session.Status.IN_PROGRESS,
        verdict="retry",
        attempt=session.attempt,
        attempt__lt=session.max_attempts,
        expires_at__gt=timezone.now(),
    ).update(attempt=session.attempt + 1, verdict="", verification_failed_reasons=[], challenges=challenges)
    if updated != 1:
        return None
    session.refresh_from_db()
    capture_attempt_reset(session=session)
    return session


def _finish_without_verdict(*, session_id: uuid.UUID | str, status: str, reason: str, event_type: str) -> bool:
    with transaction.atomic():
        updated = Session.objects.filter(id=session_id, status__in=Session.UNFINISHED).update(
            status=status,
            completed_at=timezone.now(),
            verification_result="Fail",
            verification_failed_reasons=[reason],
        )
        if updated != 1:
            return False
        session = Session.objects.select_related("account").get(id=session_id)
        webhook_event_record_safe(session=session, event_type=event_type)
    capture_record_delete(session_id=str(session.id))
    message = session_result_message(session=session)
    if message:
        notify_message(session_id=str(session.id), message=message)
    return True


def webhook_event_record_safe(*, session: Session, event_type: str) -> None:
    from apps.webhooks.services import webhook_event_record

    webhook_event_record(
        account=session.account,
        event_type=event_type,
        payload=session_result_payload(session=session),
        url=_webhook_url(session.config or {}),
    )


def session_cancel(*, session_id: uuid.UUID | str) -> bool:
    return _finish_without_verdict(
        session_id=session_id,
        status=Session.Status.CANCELLED,
        reason="cancelled",
        event_type="verification.session.cancelled",
    )


def session_expire(*, session_id: uuid.UUID | str) -> bool:
    return _finish_without_verdict(
        session_id=session_id,
        status=Session.Status.EXPIRED,
        reason="sessionExpired",
        event_type="verification.session.expired",
    )


def sessions_rescue_stuck(*, now: Any = None) -> int:
    """Queue the verdict again for sessions left in "analysing" (their worker died mid-decision)."""
    from . import tasks

    now = now or timezone.now()
    stuck = Session.objects.filter(
        status=Session.Status.ANALYSING, attempt_started_at__lt=now - timedelta(minutes=2), expires_at__gt=now
    ).values_list("id", flat=True)
    queued = 0
    for session_id in list(stuck[:100]):
        record = capture_record_get(session_id=str(session_id))
        if record is not None:
            tasks.session_decide.delay(str(session_id), record["gen"])
            queued += 1
    return queued


def sessions_photos_purge(*, now: Any = None) -> int:
    """Drop ICAO photos of sessions past the result retention: no API can serve them any more."""
    now = now or timezone.now()
    oldest = now - timedelta(days=int(settings.SESSION_RESULT_RETENTION_DAYS))
    return Session.objects.filter(created_at__lt=oldest, icao_jpeg__isnull=False).update(icao_jpeg=None)


def sessions_expire_due(*, now: Any = None) -> int:
    """Expire every unfinished session past its time to live; returns how many."""
    now = now or timezone.now()
    due = Session.objects.filter(status__in=Session.UNFINISHED, expires_at__lte=now).values_list("id", flat=True)
    return sum(1 for session_id in list(due[:500]) if session_expire(session_id=session_id))
