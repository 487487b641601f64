"""Entry (003) inside a session's verdict: the bound user's date of birth, Identify and Recovery."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from apps.face_engine.types import Verdict
from apps.users.selectors import user_date_of_birth
from apps.users.services import user_identify, user_verify
from apps.verifications.enums import FaceRecognitionType, VerifierResult
from apps.verifications.session_config import AgeConfig, FaceRecognitionConfig

from ..models import Session
from ..verdict_rules import DATE_OF_BIRTH_MISMATCH, age_in_years, user_recognition_result


def age_margin(config: AgeConfig) -> float:
    return float(config.margin if config.margin is not None else settings.AGE_MARGIN_YEARS)


def bound_user_age(*, session: Session) -> float | None:
    """The age by the stored dateOfBirth of the user the session is bound to (None: no user, or none stored)."""
    if session.entry_user_id is None:
        return None
    born = user_date_of_birth(account=session.account, entry_user_id=session.entry_user_id)
    return age_in_years(born, timezone.now().date()) if born else None


@dataclass(frozen=True)
class UserOutcome:
    result: VerifierResult
    reasons: tuple[str, ...]
    entry_user_id: uuid.UUID | None
    similarity: float | None
    risk_signals: tuple[str, ...] = ()


def user_recognise(
    *, session: Session, verdict: Verdict, config: FaceRecognitionConfig, estimated_age: float | None
) -> UserOutcome:
    """Identify (1:N among the account's users) or Recovery (1:1 with the claimed user) on a live face."""
    embedding = tuple(float(x) for x in verdict.embedding or ())
    recovery = config.type == FaceRecognitionType.RECOVERY
    engine = str(verdict.engine)
    threshold = config.similarity_threshold
    if recovery:
        if session.entry_user_id is None:
            return UserOutcome(VerifierResult.FAIL, ("entryUserIdRequired",), None, None)
        found = user_verify(
            account=session.account,
            entry_user_id=session.entry_user_id,
            embedding=embedding,
            engine=engine,
            threshold=threshold,
        )
    else:
        found = user_identify(account=session.account, embedding=embedding, engine=engine, threshold=threshold)
    entry_user_id = found.entry_user_id if (found.matched or recovery) else None
    agrees: bool | None = None
    born = user_date_of_birth(account=session.account, entry_user_id=entry_user_id) if entry_user_id else None
    if born is not None and estimated_age is not None:
        margin = age_margin(session.typed_config.verifiers.age)
        agrees = abs(estimated_age - age_in_years(born, timezone.now().date())) <= margin
    elif born is not None and recovery:
        agrees = False  # a stored date of birth and no estimate: nothing to agree with
    result, reasons = user_recognition_result(
        recovery=recovery, matched=found.matched, reason=found.reason, date_of_birth_agrees=agrees
    )
    signals = (DATE_OF_BIRTH_MISMATCH,) if agrees is False else ()
    return UserOutcome(result, reasons, entry_user_id, found.similarity, signals)
