"""Session creation: the effective configuration (stored config plus allowed overrides), the capture plan,
and the fresh capture record every attempt starts from."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from apps.accounts.models import Account
from apps.core.errors import ApplicationError
from apps.core.exceptions import flatten_errors, serializer_run
from apps.core.fields import StrictSerializer
from apps.face_engine.challenges import challenges_draw, challenges_reserve_draw
from apps.face_engine.types import CapturePlan, CaptureState, FaceEngine
from apps.signing.redirects import redirect_override_check
from apps.users.selectors import user_get
from apps.verifications import serializers as vs
from apps.verifications.enums import SESSION_OVERRIDE_FLAGS, FaceRecognitionType
from apps.verifications.selectors import verification_get
from apps.verifications.services import verification_config_parse
from apps.verifications.session_config import LivenessConfig, RedirectConfig, SessionConfig, VerifierConfigs

from ..models import Session
from ..session_locks import session_lock
from ..state_store import CaptureRecord, capture_blobs_forget, capture_record_get, capture_record_put
from .admission import capture_admission_check

_BLOCK_SERIALIZERS: dict[str, type[StrictSerializer]] = {
    "verifierConfigs": vs.VerifierConfigsSerializer,
    "redirectConfig": vs.RedirectConfigSerializer,
    "resultParameterConfig": vs.ResultParameterConfigSerializer,
    "webhookConfig": vs.WebhookConfigSerializer,
}


def _validated_block(key: str, raw: Any) -> dict[str, Any]:
    validated, errors = serializer_run(_BLOCK_SERIALIZERS[key], raw)
    if errors:
        raise ApplicationError("The request has invalid fields.", code="invalid", fields=flatten_errors(errors, key))
    value: dict[str, Any] = json.loads(json.dumps(validated))
    if isinstance(raw, dict):
        # An override replaces only what it sends (a verifier whole, a field of the other blocks and of
        # commonSettings); the serializer's defaults for the rest must not wipe the stored values.
        value = {name: part for name, part in value.items() if name in raw}
        common = raw.get("commonSettings") if key == "verifierConfigs" else None
        if isinstance(common, dict) and isinstance(value.get("commonSettings"), dict):
            value["commonSettings"] = {name: v for name, v in value["commonSettings"].items() if name in common}
    return value


def _block_merge(key: str, stored: dict[str, Any], block: dict[str, Any]) -> dict[str, Any]:
    merged = {**stored, **block}
    if key == "verifierConfigs" and "commonSettings" in block:
        merged["commonSettings"] = {**(stored.get("commonSettings") or {}), **block["commonSettings"]}
    return merged


def _effective_config(
    *, account: Account, body: dict[str, Any], verification_id: uuid.UUID | None, overrides: dict[str, Any] | None
) -> dict[str, Any]:
    """The frozen verificationConfig of a new session: stored config plus the overrides it allows."""
    keys = tuple(SESSION_OVERRIDE_FLAGS)
    requested = {k: body[k] for k in keys if body.get(k) is not None}
    requested.update({k: v for k, v in (overrides or {}).items() if k in keys and v is not None})
    if verification_id is None:
        if "verifierConfigs" not in requested:
            raise ApplicationError(
                "The request has invalid fields.",
                code="invalid",
                fields={"verifierConfigs": ["This field is required unless verificationId is given."]},
            )
        parsed = verification_config_parse(data=requested, field_prefix="")
        # No stored configuration vouches for these targets: each one is an override.
        _redirect_overrides_check(account=account, stored=RedirectConfig(), block=parsed.get("redirectConfig") or {})
        return parsed
    stored = verification_get(account=account, verification_id=verification_id)
    config: dict[str, Any] = copy.deepcopy(stored.config or {})
    allowed = stored.typed_config.overrides
    refused = {
        key: ["The verification's sessionOverrideConfig does not allow overriding this."]
        for key in SESSION_OVERRIDE_FLAGS
        if key in requested and not allowed.allows(key)
    }
    if refused:
        raise ApplicationError(
            "This session may not override the stored configuration.", code="override_not_allowed", fields=refused
        )
    for key, raw in requested.items():
        block = _validated_block(key, raw)
        if key == "redirectConfig":
            _redirect_overrides_check(account=account, stored=stored.typed_config.redirect, block=block)
        config[key] = _block_merge(key, config.get(key) or {}, block)
    return config


def _redirect_overrides_check(*, account: Account, stored: RedirectConfig, block: dict[str, Any]) -> None:
    """A redirect URL the stored configuration does not hold must have an origin the account allows.

    That covers a session overriding a stored verification and a session created
    without one: no open redirects.
    """
    known = stored.to_json()
    for name, url in block.items():
        if url and url != known.get(name):
            redirect_override_check(account=account, url=url, field=f"redirectConfig.{name}")


def capture_plan_for(liveness: LivenessConfig) -> tuple[str, list[str]]:
    """(mode, challenges) of one attempt: the liveness challengeType picks the count."""
    if liveness.challenge_count == 0:
        return "passive", []
    # Distinct, unguessable, and never both turns in a row (one sweep cannot answer two challenges).
    return "active", list(challenges_draw(count=liveness.challenge_count))


def session_create(
    *,
    account: Account,
    body: dict[str, Any],
    verification_id: uuid.UUID | str | None = None,
    custom_input_parameters: dict[str, Any] | None = None,
    external_id: str | None = None,
    overrides: dict[str, Any] | None = None,
    session_id: uuid.UUID | None = None,
    webhook_format: str = "",
) -> Session:
    """Create a session from a validated create-session body (and/or a stored verification).

    ``body`` holds the create-session fields (``name``, ``externalId``,
    ``verifierConfigs``, ``webhookConfig``, optionally ``redirectConfig``,
    ``resultParameterConfig``, ``customInputParameters``, ``locale``); ``overrides`` are
    session-level overrides from a hosted link, checked against the stored
    configuration's ``sessionOverrideConfig`` like the body's. ``session_id`` fixes the new
    session's id up front (an adapter that must name the session in its own parameters);
    ``webhook_format`` gives its webhooks an adapter's body (apps/sessions/webhook_formats.py).
    """
    if verification_id is None and body.get("verificationId"):
        verification_id = body["verificationId"]
    vid = uuid.UUID(str(verification_id)) if verification_id else None
    config = _effective_config(account=account, body=body, verification_id=vid, overrides=overrides)
    if body.get("locale"):
        # The page's language is no security matter: create-session and a hosted link may always choose it.
        verifier_configs = config.setdefault("verifierConfigs", {})
        verifier_configs["commonSettings"] = {
            **(verifier_configs.get("commonSettings") or {}),
            "locale": body["locale"],
        }
    verifiers = SessionConfig.from_json(config).verifiers
    entry_user_id = _entry_user_check(account=account, body=body, verifiers=verifiers)
    mode, challenges = capture_plan_for(verifiers.liveness)
    capture_admission_check()  # after validation: a malformed body is a 400 whatever the load
    now = timezone.now()
    return Session.objects.create(
        id=session_id or uuid.uuid4(),
        account=account,
        verification_id=vid,
        name=str(body.get("name") or ""),
        external_id=external_id if external_id is not None else body.get("externalId"),
        custom_input_parameters=custom_input_parameters or body.get("customInputParameters") or {},
        config=config,
        mode=mode,
        challenges=challenges,
        max_attempts=verifiers.common.max_attempts or int(settings.SESSION_MAX_ATTEMPTS),
        expires_at=now + timedelta(seconds=int(settings.SESSION_TTL_SECONDS)),
        entry_user_id=entry_user_id,
        webhook_format=webhook_format,
    )


def _entry_user_check(*, account: Account, body: dict[str, Any], verifiers: VerifierConfigs) -> uuid.UUID | None:
    """The user a session is bound to (``entryUserId``): one of the account's; Recovery needs one."""
    raw = body.get("entryUserId")
    if raw is None:
        if verifiers.face_recognition.type == FaceRecognitionType.RECOVERY:
            raise ApplicationError(
                "The request has invalid fields.",
                code="invalid",
                fields={"entryUserId": ["Required when faceRecognition.type is Recovery."]},
            )
        return None
    return user_get(account=account, entry_user_id=raw).id


# --- attempts -----------------------------------------------------------------------------
# How long a reset waits for a frame of the old attempt that is being analysed (a frame takes milliseconds).
RESET_LOCK_WAIT_SECONDS = 5.0


def capture_attempt_reset(*, session: Session, keep_completed: bool = False) -> CaptureRecord:
    """Fresh state for the session's current attempt; older queued frames become stale.

    The engine state itself is created by the worker on the first frame, so the
    web process never loads the face models. ``keep_completed`` (a reconnecting browser): an attempt
    whose capture is complete, its verdict under way, is kept as it is; one that had named a challenge restarts
    with challenges drawn afresh (still no attempt spent), so that "Start again" or a dropped socket never lets
    anyone prepare, at leisure, an answer to challenges already shown and then replay it.
    """
    sid = str(session.id)
    # Under the session's lock: a frame still being analysed for the old attempt finishes and saves first,
    # then this record replaces it (a frame that saved after this one would bring the old attempt back).
    with session_lock(session_id=sid, wait=RESET_LOCK_WAIT_SECONDS):
        current = capture_record_get(session_id=sid) if keep_completed else None
        if current is not None and current["complete"]:
            return current  # that frame completed the capture: its verdict is on its way; a reset would lose it
        if current is not None and current.get("challenge") and session.challenges:
            _, challenges = capture_plan_for(session.typed_config.verifiers.liveness)
            if Session.objects.filter(id=session.id, attempt=session.attempt, verdict="").update(challenges=challenges):
                session.challenges = challenges
        record = _capture_record_new(session)
        capture_blobs_forget(session_id=sid)  # the previous attempt's JPEGs
        capture_record_put(session_id=sid, record=record)
    Session.objects.filter(id=session.id).update(attempt_started_at=timezone.now())
    return record


def _capture_record_new(session: Session) -> CaptureRecord:
    verifiers = session.typed_config.verifiers
    plan = {
        "mode": "passive" if session.mode == "passive" else "active",
        "challenges": list(session.challenges),
        # Drawn now, with the attempt: what replaces a challenge not answered in time (docs/engine.md).
        "reprompt_challenges": list(challenges_reserve_draw(plan=session.challenges)) if session.challenges else [],
        "fail_on_multiple_faces": verifiers.common.fail_on_multiple_faces,
        "want_age_gender": verifiers.wants_age_gender,
        # Always: a passed session keeps its face (face compare, faceId, continuous checks) whether or not
        # face recognition is configured.
        "want_embedding": True,
        "want_icao": True,
    }
    return {
        "gen": uuid.uuid4().hex,
        "seq": 0,
        "plan": plan,
        "state": "",
        # The engine names the first challenge once it has the user's neutral baseline.
        "challenge": None,
        "complete": False,
        "t0": 0.0,
        "total": len(session.challenges),
        "log": [],
    }


def capture_state_load(
    engine: FaceEngine, record: CaptureRecord, blobs: Mapping[str, bytes] | None = None
) -> CaptureState:
    """The engine state of an attempt: the stored one, or a new capture built from the record's plan.

    ``blobs`` (``capture_blobs_get``) puts the JPEGs stored apart back: the verdict needs them, a frame does not.
    """
    if record["state"]:
        return engine.load_capture(record["state"], blobs)
    plan = dict(record["plan"])
    lists = {name: tuple(plan.get(name) or ()) for name in ("challenges", "reprompt_challenges")}
    return engine.new_capture(CapturePlan(**{**plan, **lists}))
