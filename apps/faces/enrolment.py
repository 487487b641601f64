"""The account's users collection: the faces of Entry users (``apps.users``), searched 1:N by Identify.

It is an ordinary ``FaceCollection`` whose ``collectionId`` holds a control character, which
``COLLECTION_ID_PATTERN`` refuses, so no verification config and no ``/v1/collection/*`` call
can name it; the collection and face listings leave it out. Each face's ``externalId`` is the
user's ``entryUserId``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import transaction

from apps.accounts.models import Account
from apps.core.engine import get_engine
from apps.face_engine.types import FaceEngine

from .models import Face, FaceCollection, SessionFace
from .search import collection_search, embedding_from_bytes
from .selectors import session_faces_kept
from .services import _collection_for_write, _face_insert, collection_accepts, face_delete, same_person
from .session_faces import SESSIONS_COLLECTION_ID

USERS_COLLECTION_ID = "\x1fentry-users"


@dataclass(frozen=True)
class UserFaceMatch:
    face_id: str
    external_id: str | None
    similarity: float


def users_collection_get(*, account: Account) -> FaceCollection | None:
    return FaceCollection.objects.filter(account=account, collection_id=USERS_COLLECTION_ID).first()


def face_matches(
    *, engine: FaceEngine, collection: FaceCollection, embedding: np.ndarray, threshold: float | None = None
) -> list[UserFaceMatch]:
    """Every stored face among the best cosine candidates at or above ``threshold`` (the engine's when None).

    Best first. Two entries mean two people look alike to the engine: callers refuse rather than guess.
    """
    k = max(int(settings.FACES_SEARCH_CANDIDATES), 3)
    candidates = collection_search(collection=collection, embedding=embedding, k=k)
    faces = Face.objects.in_bulk([c.face_pk for c in candidates])
    query = tuple(float(x) for x in embedding)
    found: list[UserFaceMatch] = []
    for candidate in candidates:
        face = faces.get(candidate.face_pk)
        if face is None:
            continue
        comparison = engine.compare(query, tuple(float(x) for x in embedding_from_bytes(face.embedding)))
        if same_person(comparison, threshold):
            found.append(UserFaceMatch(face.face_id, face.external_id, round(float(comparison.similarity), 4)))
    return sorted(found, key=lambda m: m.similarity, reverse=True)


def session_face_get(*, account: Account, session_id: uuid.UUID) -> SessionFace | None:
    """The embedding a live session kept (None: the session did not pass liveness, or it is past retention)."""
    return session_faces_kept().filter(account=account, session_id=session_id).first()


def session_faces_delete(*, account: Account, session_ids: list[uuid.UUID]) -> int:
    """Delete what ``session_ids`` kept of a face: embeddings, and their faces in the sessions collection."""
    kept = Face.objects.filter(
        collection__account=account,
        collection__collection_id=SESSIONS_COLLECTION_ID,
        sightings__session_id__in=session_ids,
    ).distinct()
    for face_id in list(kept.values_list("face_id", flat=True)):
        face_delete(account=account, face_id=face_id)
    deleted, _ = SessionFace.objects.filter(account=account, session_id__in=session_ids).delete()
    return deleted


@dataclass(frozen=True)
class Enrolment:
    face: Face | None
    conflict: UserFaceMatch | None  # the face is already another user's
    engine_mismatch: bool = False


def user_face_enrol(*, account: Account, session_face: SessionFace, external_id: str) -> Enrolment:
    """Store ``session_face`` as the face of user ``external_id`` in the users collection.

    Refused (``conflict``) when the face already belongs to another user: one person, one user.
    A face the user already had is replaced.
    """
    engine = get_engine()
    vector = embedding_from_bytes(session_face.embedding).astype(np.float32)
    with transaction.atomic():
        collection = _collection_for_write(
            account=account,
            collection_id=USERS_COLLECTION_ID,
            engine=session_face.engine,
            model_version=session_face.model_version,
            dimension=vector.shape[0],
        )
        accepts = collection_accepts(
            collection, engine=session_face.engine, model_version=session_face.model_version, dimension=vector.shape[0]
        )
        if not accepts or engine.name != session_face.engine:
            return Enrolment(face=None, conflict=None, engine_mismatch=True)
        for match in face_matches(engine=engine, collection=collection, embedding=vector):
            if match.external_id != external_id:
                return Enrolment(face=None, conflict=match)
        previous = Face.objects.filter(collection=collection, external_id=external_id).first()
        if previous is not None:
            face_delete(account=account, face_id=previous.face_id)
        face = _face_insert(
            collection=collection, embedding=vector, external_id=external_id, session_id=session_face.session_id
        )
    return Enrolment(face=face, conflict=None)
