"""Entry users: create, enrol a face from a passed session, identify 1:N, verify 1:1, delete."""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass
from datetime import date

import numpy as np
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import Account
from apps.audit.models import AuditEventType
from apps.audit.services import audit_record
from apps.core.engine import get_engine
from apps.core.errors import ApplicationError
from apps.core.keys import derive_key
from apps.faces.enrolment import (
    face_matches,
    session_face_get,
    session_faces_delete,
    user_face_enrol,
    users_collection_get,
)
from apps.faces.models import Face
from apps.faces.search import embedding_from_bytes
from apps.faces.services import face_delete, same_person

from .models import Enrolment, EntryUser
from .ports import sessions_port
from .selectors import user_get


def document_number_hash(*, account: Account, number: str) -> str:
    """Keyed HMAC of the normalised number (upper case, letters and digits only), salted with the account."""
    normalised = re.sub(r"[^0-9A-Z]", "", number.upper())
    message = f"{account.pk}:{normalised}".encode()
    return hmac.new(derive_key("entry-user-document"), message, hashlib.sha256).hexdigest()


def user_create(
    *, account: Account, external_id: str, date_of_birth: date | None = None, document_number: str | None = None
) -> EntryUser:
    """A new user (409 ``conflict`` when the account already has one with this ``externalId``)."""
    digest = document_number_hash(account=account, number=document_number) if document_number else ""
    try:
        with transaction.atomic():
            user = EntryUser.objects.create(
                account=account, external_id=external_id, date_of_birth=date_of_birth, document_number_hash=digest
            )
            audit_record(
                account_id=account.pk, type=AuditEventType.USER_CREATED, subject_type="user", subject_id=user.id
            )
            return user
    except IntegrityError:
        raise ApplicationError(
            "A user with this externalId already exists.",
            code="conflict",
            status=409,
            fields={"externalId": ["Already used by another user of this account."]},
        ) from None


def user_document_matches(*, user: EntryUser, document_number: str) -> bool:
    """Whether ``document_number`` is the one stored (hashed) for ``user``; False when none is stored."""
    if not user.document_number_hash:
        return False
    digest = document_number_hash(account=user.account, number=document_number)
    return hmac.compare_digest(digest, user.document_number_hash)


def user_enrol(*, account: Account, entry_user_id: uuid.UUID, session_id: uuid.UUID) -> EntryUser:
    """Store the face of a passed session as the user's face (replacing an earlier one)."""
    user = user_get(account=account, entry_user_id=entry_user_id)
    port = sessions_port()
    summary = port.summary(account=account, session_id=session_id) if port else None
    if summary is None:
        raise ApplicationError("Session not found.", code="not_found", status=404)
    stored = session_face_get(account=account, session_id=session_id)
    if not summary.passed or stored is None:
        raise ApplicationError(
            "Only a session that passed (and whose face is still kept, 7 days) can enrol a face.",
            code="no_face_data",
            status=409,
            fields={"verificationSessionId": ["The session did not pass, or its face is no longer kept."]},
        )
    enrolment = user_face_enrol(account=account, session_face=stored, external_id=str(user.id))
    if enrolment.engine_mismatch:
        raise ApplicationError(
            "The session's face was computed by another face engine.", code="engine_mismatch", status=409
        )
    if enrolment.conflict is not None:
        raise ApplicationError(
            "This face is already enrolled for another user.",
            code="face_registered_to_other_user",
            status=409,
            fields={"verificationSessionId": ["The face matches another user of this account."]},
        )
    signals = port.enrolment_signals(account=account, session_id=session_id, entry_user_id=user.id) if port else []
    Enrolment.objects.get_or_create(user=user, session_id=session_id)
    EntryUser.objects.filter(pk=user.pk).update(
        face=enrolment.face,
        enrolled_session_id=session_id,
        enrolled_at=timezone.now(),
        device_id=summary.device_id or user.device_id,
        updated_at=timezone.now(),
    )
    user.refresh_from_db()
    audit_record(
        account_id=account.pk,
        type=AuditEventType.USER_ENROLLED,
        subject_type="user",
        subject_id=user.id,
        details={"verificationSessionId": str(session_id), "riskSignals": signals},
    )
    return user


@dataclass(frozen=True)
class UserDeletion:
    deleted_face_count: int
    cleared_session_count: int


def user_delete(*, account: Account, entry_user_id: uuid.UUID) -> UserDeletion:
    """Delete the user, their face and profile, and clear the personal fields of their sessions."""
    user = user_get(account=account, entry_user_id=entry_user_id)
    port = sessions_port()
    with transaction.atomic():
        faces = 0
        if user.face_id is not None:
            face = Face.objects.filter(pk=user.face_id).first()
            if face is not None:
                face_delete(account=account, face_id=face.face_id)
                faces = 1
        # Every session the user was enrolled from: enrolling again replaced the face, not the earlier session's data.
        known = list(user.enrolments.values_list("session_id", flat=True))
        session_ids = port.forget_user(account=account, entry_user_id=user.id, session_ids=known) if port else []
        session_faces_delete(account=account, session_ids=session_ids)
        user.delete()
        audit_record(
            account_id=account.pk,
            type=AuditEventType.USER_DELETED,
            subject_type="user",
            subject_id=entry_user_id,
            details={"deletedFaceCount": faces, "clearedSessionCount": len(session_ids)},
        )
    return UserDeletion(deleted_face_count=faces, cleared_session_count=len(session_ids))


# --- Recognition inside a session's verdict ------------------------------------------------------------


@dataclass(frozen=True)
class UserRecognition:
    matched: bool
    entry_user_id: uuid.UUID | None
    similarity: float | None
    reason: str | None  # why not matched: userNotFound, ambiguousUser, userFaceMismatch, userNotEnrolled


def _users_vector(account: Account, embedding: tuple[float, ...], engine: str) -> np.ndarray | None:
    face_engine = get_engine()
    if face_engine.name != engine:
        return None
    return np.asarray(embedding, dtype=np.float32)


def user_identify(
    *, account: Account, embedding: tuple[float, ...], engine: str, threshold: float | None
) -> UserRecognition:
    """1:N among the account's enrolled users. Two users above the threshold: refused, never guessed."""
    collection = users_collection_get(account=account)
    vector = _users_vector(account, embedding, engine)
    if collection is None or vector is None or collection.dimension != vector.shape[0]:
        return UserRecognition(matched=False, entry_user_id=None, similarity=None, reason="userNotFound")
    matches = face_matches(engine=get_engine(), collection=collection, embedding=vector, threshold=threshold)
    if not matches:
        return UserRecognition(matched=False, entry_user_id=None, similarity=None, reason="userNotFound")
    if len(matches) > 1:
        return UserRecognition(
            matched=False, entry_user_id=None, similarity=matches[0].similarity, reason="ambiguousUser"
        )
    best = matches[0]
    user = EntryUser.objects.filter(account=account, face__face_id=best.face_id).first()
    if user is None:
        return UserRecognition(matched=False, entry_user_id=None, similarity=None, reason="userNotFound")
    return UserRecognition(matched=True, entry_user_id=user.id, similarity=best.similarity, reason=None)


def user_verify(
    *, account: Account, entry_user_id: uuid.UUID, embedding: tuple[float, ...], engine: str, threshold: float | None
) -> UserRecognition:
    """1:1 against the claimed user's enrolled face (account recovery)."""
    user = EntryUser.objects.filter(account=account, id=entry_user_id).select_related("face").first()
    vector = _users_vector(account, embedding, engine)
    if user is None or user.face is None or vector is None:
        return UserRecognition(matched=False, entry_user_id=entry_user_id, similarity=None, reason="userNotEnrolled")
    stored = embedding_from_bytes(user.face.embedding)
    if stored.shape != vector.shape:
        return UserRecognition(matched=False, entry_user_id=entry_user_id, similarity=None, reason="userNotEnrolled")
    comparison = get_engine().compare(tuple(float(x) for x in vector), tuple(float(x) for x in stored))
    similarity = round(float(comparison.similarity), 4)
    ok = same_person(comparison, threshold)
    return UserRecognition(
        matched=ok, entry_user_id=entry_user_id, similarity=similarity, reason=None if ok else "userFaceMismatch"
    )
