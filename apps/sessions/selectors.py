"""Session reads for the integrator API."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connections, router
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils import timezone

from apps.accounts.models import Account
from apps.core.errors import ApplicationError
from apps.users.models import EntryUser
from apps.verifications.enums import AgeType

from .models import Session


def _results_oldest() -> datetime:
    """Sessions created before this are past get-session-result's retention: unknown to the API."""
    return timezone.now() - timedelta(days=int(settings.SESSION_RESULT_RETENTION_DAYS))


def _session_uuid(session_id: uuid.UUID | str) -> uuid.UUID:
    try:
        return uuid.UUID(str(session_id))
    except ValueError as exc:
        raise ApplicationError("Session not found.", code="not_found", status=404) from exc


def session_get(*, account: Account, session_id: uuid.UUID | str) -> Session:
    """The account's session, or 404: unknown, foreign and older-than-retention sessions look alike."""
    rows = Session.objects.filter(account=account, created_at__gte=_results_oldest())
    session = rows.filter(id=_session_uuid(session_id)).first()
    if session is None:
        raise ApplicationError("Session not found.", code="not_found", status=404)
    return session


def session_result_get(*, account: Account, session_id: uuid.UUID | str) -> Session:
    """``session_get`` for get-session-result: the ICAO photo's bytes (tens of KB a row) stay in the
    database; whether there is one comes along as ``icao_present``.

    The API's most frequent read, so its SELECT and the loading of its row are prepared once per database
    (:class:`_ResultRead`) instead of by the ORM on every call: building this query over the wide row cost
    the web process as much CPU as running it.
    """
    sid = _session_uuid(session_id)
    session = _result_read(router.db_for_read(Session)).one([sid, account.pk, _results_oldest()])
    if session is None:
        raise ApplicationError("Session not found.", code="not_found", status=404)
    return session


class _ResultRead:
    """session_result_get's query, compiled by the ORM once per database; each read runs its SQL with new values
    and loads the row as the ORM would (the same columns, converters and deferred photo)."""

    SAMPLE = (uuid.UUID(int=1), uuid.UUID(int=2), datetime(2000, 1, 1, tzinfo=UTC))  # stand-ins for the three values

    def __init__(self, alias: str) -> None:
        self.alias, meta = alias, Session._meta
        has_photo = ExpressionWrapper(Q(icao_jpeg__isnull=False), output_field=BooleanField())
        rows = Session.objects.using(alias).defer("icao_jpeg").annotate(icao_present=has_photo)
        sample = rows.filter(id=self.SAMPLE[0], account_id=self.SAMPLE[1], created_at__gte=self.SAMPLE[2])[:1]
        self.compiler = sample.query.get_compiler(alias)
        self.sql, params = self.compiler.as_sql()
        self.where = [meta.pk, meta.get_field("account"), meta.get_field("created_at")]
        # Where each value goes in the SQL's parameters (Django orders the conditions its own way).
        expected = self._prepared(self.SAMPLE)
        if sorted(map(str, params)) != sorted(map(str, expected)):
            raise RuntimeError(f"get-session-result's query takes other parameters than expected: {params}")
        self.order = [expected.index(param) for param in params]
        model = self.compiler.klass_info["select_fields"]
        self.names = [column.target.attname for column, *_ in self.compiler.select[model[0] : model[-1] + 1]]
        self.photo_column = self.compiler.annotation_col_map["icao_present"]
        self.converters = self.compiler.get_converters([column for column, *_ in self.compiler.select])

    def _prepared(self, values: Sequence[Any]) -> list[Any]:
        connection = connections[self.alias]
        return [field.get_db_prep_value(value, connection) for field, value in zip(self.where, values, strict=True)]

    def one(self, values: Sequence[Any]) -> Session | None:
        with connections[self.alias].cursor() as cursor:
            prepared = self._prepared(values)
            cursor.execute(self.sql, [prepared[index] for index in self.order])
            row = cursor.fetchone()
        if row is None:
            return None
        columns = next(iter(self.compiler.apply_converters([row], self.converters)))
        session = Session.from_db(self.alias, self.names, columns[: len(self.names)])
        session.__dict__["icao_present"] = bool(columns[self.photo_column])
        return session


@functools.cache
def _result_read(alias: str) -> _ResultRead:
    return _ResultRead(alias)


def session_exists(*, account: Account, session_id: uuid.UUID) -> bool:
    """Whether ``session_get`` finds the session (what face compare needs to tell 404 from 409)."""
    return Session.objects.filter(id=session_id, account=account, created_at__gte=_results_oldest()).exists()


def session_result_payload(*, session: Session) -> dict[str, Any]:
    """Every get-session-result field of 001, plus status, engine, model versions and scores."""
    finished = session.status == Session.Status.COMPLETED
    return {
        "verificationSessionId": str(session.id),
        "status": session.status,
        "verificationResult": session.verification_result,
        "verificationFailedReasons": list(session.verification_failed_reasons or []),
        "livenessVerificationResult": session.liveness_result,
        "ageVerificationResult": session.age_result,
        "estimatedAge": session.estimated_age,
        "genderVerificationResult": session.gender_result,
        "estimatedGender": session.estimated_gender,
        "faceRecognitionResult": session.face_recognition_result,
        "faceId": session.face_id,
        "correlationId": session.external_id,
        "totalFaceCount": session.total_face_count,
        "customInputParameters": session.custom_input_parameters or {},
        "attempt": session.attempt,
        "maxAttempts": session.max_attempts,
        "createdAt": session.created_at.isoformat().replace("+00:00", "Z") if session.created_at else None,
        "completedAt": session.completed_at.isoformat().replace("+00:00", "Z") if session.completed_at else None,
        "engine": session.engine or None,
        "modelVersions": dict(session.model_versions or {}),
        "confidence": session.confidence,
        "scores": dict(session.scores or {}),
        "challengeOutcomes": dict(session.challenge_outcomes or {}),
        "icaoPhotoAvailable": bool(finished and session.passed and _has_icao_photo(session)),
        # Continuous checks (docs/sdk.md): each change of person or extra face seen after the session passed.
        "checks": list(session.checks or []),
        **entry_result_fields(session=session),
    }


def _has_icao_photo(session: Session) -> bool:
    present = getattr(session, "icao_present", None)  # session_result_get: the bytes were not loaded
    return bool(session.icao_jpeg) if present is None else bool(present)


def entry_result_fields(*, session: Session) -> dict[str, Any]:
    """The Entry (003) fields: the user (bound or identified), minor, risk signals and the thresholds applied."""
    verifiers = session.typed_config.verifiers
    user = None
    if session.entry_user_id is not None:
        found = EntryUser.objects.filter(account_id=session.account_id, id=session.entry_user_id).first()
        user = {
            "entryUserId": str(session.entry_user_id),
            "isRegistrationComplete": bool(found and found.is_registration_complete),
            "deviceId": (found.device_id or None) if found else None,
            "similarity": session.user_similarity,
        }
    age = verifiers.age
    return {
        "user": user,
        "minor": session.minor,
        "riskSignals": list(session.risk_signals or []),
        "deviceId": session.device_id or None,
        "thresholds": {
            "livenessPass": verifiers.liveness.pass_threshold or float(settings.LIVENESS_PASS_THRESHOLD),
            "livenessRetry": verifiers.liveness.retry_threshold or float(settings.LIVENESS_RETRY_THRESHOLD),
            # null: the engine's own (dlib: 0.5)
            "faceSimilarity": verifiers.face_recognition.similarity_threshold,
            "age": age.threshold if age.type == AgeType.THRESHOLD_VERIFICATION else None,
            "ageMargin": float(age.margin if age.margin is not None else settings.AGE_MARGIN_YEARS),
        },
    }
