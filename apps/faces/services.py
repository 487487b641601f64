"""Face recognition writes: collections, faceId, session faces (the four recognition modes: ``recognition``).

Faces are stored as embeddings only. Within a collection the same person keeps
one ``faceId``: every write searches the collection first, under a row lock
on the collection so two concurrent sessions of one person cannot both insert.
Compare and identify (images in) live in ``comparison``; 1:N search in ``search``.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.accounts.models import Account
from apps.audit.models import AuditEventType
from apps.audit.services import audit_record
from apps.core.errors import ApplicationError
from apps.face_engine.types import Comparison, FaceEngine
from apps.verifications.enums import VerifierResult

from .models import Face, FaceCollection, FaceCollectionChange, FaceSighting, SessionFace
from .search import CHANGES_KEPT, collection_search, embedding_from_bytes, embedding_to_bytes, search_cache
from .selectors import collection_get, session_face_oldest

# Failure reasons reported in the session result.
DUPLICATE_FACE = "duplicateFace"
FACE_MISMATCH = "faceMismatch"
EXTERNAL_ID_REQUIRED = "externalIdRequired"
EXTERNAL_ID_UNKNOWN = "externalIdUnknown"
FACE_REGISTERED_TO_OTHER_ID = "faceRegisteredToOtherExternalId"
ENGINE_MISMATCH = "collectionEngineMismatch"


@dataclass(frozen=True)
class FaceRecognitionOutcome:
    result: VerifierResult
    face_id: str | None
    reasons: tuple[str, ...]


NOT_EXECUTED = FaceRecognitionOutcome(result=VerifierResult.NOT_EXECUTED, face_id=None, reasons=())


@dataclass(frozen=True)
class Match:
    face: Face
    comparison: Comparison


# dlib's detector, landmark and descriptor objects are not safe to call from two threads at
# once; the web process may run image work on several threads (see selfie_id_views), so it takes turns.
ENGINE_LOCK = threading.RLock()


# Version keys of the model that computes embeddings (dlib's ResNet, InsightFace's ArcFace packs).
_EMBEDDING_KEYS = ("embedding", "recognition", "w600k", "glint", "arcface", "webface")


def embedding_model_version(versions: Mapping[str, str]) -> str:
    """The version string a collection pins: the embedding model's version(s), else all of them.

    Pass ``verdict.versions`` / ``engine.versions``; age, liveness or landmark
    model updates then leave collections usable, an embedding model update does not.
    """
    picked = sorted(f"{k}={v}" for k, v in versions.items() if any(m in k.lower() for m in _EMBEDDING_KEYS))
    return ";".join(picked or sorted(f"{k}={v}" for k, v in versions.items()))


# --- Collections -----------------------------------------------------------------------


def _collection_for_write(
    *, account: Account, collection_id: str, engine: str, model_version: str, dimension: int
) -> FaceCollection:
    """Get or create the collection and lock its row for the rest of the transaction."""
    collection, _ = FaceCollection.objects.select_for_update().get_or_create(
        account=account,
        collection_id=collection_id,
        defaults={"engine": engine, "model_version": model_version, "dimension": dimension},
    )
    return collection


def collection_accepts(collection: FaceCollection, *, engine: str, model_version: str, dimension: int) -> bool:
    return (collection.engine, collection.model_version, collection.dimension) == (engine, model_version, dimension)


def _bump_version(
    collection: FaceCollection, *, added_pk: int | None = None, removed_pks: Sequence[int] = ()
) -> tuple[int, int]:
    """Move the collection one version on per face it adds or removes, each logged for other processes' search
    matrices; a bump with neither makes them read every face again. The versions are the database's: ``collection``
    may be an older copy (another write of the same transaction moved it on)."""
    changes = [(added_pk, True)] if added_pk is not None else [(pk, False) for pk in removed_pks]
    step = max(len(changes), 1)
    rows = FaceCollection.objects.filter(pk=collection.pk)
    with transaction.atomic():  # the update's row lock holds until the log is written
        rows.update(version=F("version") + step, updated_at=timezone.now())
        new = rows.values_list("version", flat=True).get()
        old = new - step
        collection.version = new
        FaceCollectionChange.objects.bulk_create(
            FaceCollectionChange(collection=collection, version=old + 1 + i, face_pk=pk, added=added)
            for i, (pk, added) in enumerate(changes)
        )
        if changes and old // 100 != new // 100:  # pruned now and then: a query more on every write is not worth it
            FaceCollectionChange.objects.filter(collection=collection, version__lte=new - CHANGES_KEPT).delete()
    return old, new


def collection_describe(*, account: Account, collection_id: str, description: str) -> FaceCollection:
    """Set the description of an existing collection (404 when the account has none by that id)."""
    updated = FaceCollection.objects.filter(account=account, collection_id=collection_id).update(
        description=description, updated_at=timezone.now()
    )
    if not updated:
        raise ApplicationError("Collection not found.", code="not_found", status=404)
    return collection_get(account=account, collection_id=collection_id)


def collection_delete(*, account: Account, collection_id: str) -> int:
    """Delete a collection with all its embeddings; returns how many faces went with it."""
    with transaction.atomic():
        collection = (
            FaceCollection.objects.select_for_update().filter(account=account, collection_id=collection_id).first()
        )
        if collection is None:
            raise ApplicationError("Collection not found.", code="not_found", status=404)
        pk = collection.pk
        count = Face.objects.filter(collection=collection).count()
        sessions = FaceSighting.objects.filter(face__collection=collection).values("session_id")
        SessionFace.objects.filter(session_id__in=sessions, account=account).delete()
        collection.delete()
        transaction.on_commit(lambda: search_cache.forget(collection_pk=pk))
    return count


# --- Faces ---------------------------------------------------------------------------------


def _face_insert(
    *, collection: FaceCollection, embedding: np.ndarray, external_id: str | None, session_id: uuid.UUID | None
) -> Face:
    face = Face.objects.create(collection=collection, embedding=embedding_to_bytes(embedding), external_id=external_id)
    if session_id is not None:
        FaceSighting.objects.create(face=face, session_id=session_id)
    old, new = _bump_version(collection, added_pk=face.pk)
    transaction.on_commit(
        lambda: search_cache.after_write(
            collection=collection, old_version=old, new_version=new, added=face, embedding=embedding
        )
    )
    return face


def _face_seen(*, face: Face, session_id: uuid.UUID | None, external_id: str | None = None) -> None:
    updates: dict[str, Any] = {"last_seen_at": timezone.now()}
    if external_id is not None:
        updates["external_id"] = external_id
    Face.objects.filter(pk=face.pk).update(**updates)
    if session_id is not None:
        # Once per face and session (their unique constraint): one INSERT, no savepoints.
        FaceSighting.objects.bulk_create([FaceSighting(face=face, session_id=session_id)], ignore_conflicts=True)


def face_delete(*, account: Account, face_id: str) -> None:
    """Delete one face; it stops matching at once in every process (the version changes)."""
    with transaction.atomic():
        face = Face.objects.filter(face_id=face_id.lower(), collection__account=account).first()
        if face is None:
            raise ApplicationError("Face not found.", code="not_found", status=404)
        collection = FaceCollection.objects.select_for_update().get(pk=face.collection_id)
        removed_pk = face.pk
        # The person's biometric data goes entirely: the session embeddings kept for compare too.
        SessionFace.objects.filter(session_id__in=face.sightings.values("session_id"), account=account).delete()
        face.delete()
        audit_record(
            account_id=account.pk,
            type=AuditEventType.FACE_DELETED,
            subject_type="face",
            subject_id=face_id.lower(),
            details={"collectionId": collection.collection_id.lstrip("\x1f")},
        )
        old, new = _bump_version(collection, removed_pks=[removed_pk])
        transaction.on_commit(
            lambda: search_cache.after_write(
                collection=collection, old_version=old, new_version=new, removed_pks=[removed_pk]
            )
        )


def same_person(comparison: Comparison, threshold: float | None) -> bool:
    """Whether a comparison is one person: at or above ``threshold`` (a config's), else the engine's own call."""
    return comparison.is_identical if threshold is None else comparison.similarity >= threshold


def face_best_match(
    *, engine: FaceEngine, collection: FaceCollection, embedding: np.ndarray, threshold: float | None = None
) -> Match | None:
    """The most similar stored face that is the same person (``same_person``) among the top cosine candidates."""
    candidates = collection_search(collection=collection, embedding=embedding, k=int(settings.FACES_SEARCH_CANDIDATES))
    if not candidates:
        return None
    faces = Face.objects.in_bulk([c.face_pk for c in candidates])
    query = tuple(float(x) for x in embedding)
    best: Match | None = None
    for candidate in candidates:
        face = faces.get(candidate.face_pk)
        if face is None:  # deleted since the matrix was built
            continue
        comparison = engine.compare(query, tuple(float(x) for x in embedding_from_bytes(face.embedding)))
        if same_person(comparison, threshold) and (best is None or comparison.similarity > best.comparison.similarity):
            best = Match(face=face, comparison=comparison)
    return best


def session_face_record(
    *, account: Account, session_id: uuid.UUID, embedding: tuple[float, ...], engine: str, model_version: str
) -> None:
    """Keep a passed session's embedding so ``/v1/face/compare`` can compare an image with that session.

    Idempotent (a repeated verdict task overwrites the same row, its ``created_at`` kept). Call it only
    for sessions that passed liveness; face_recognition_apply calls it itself. One upsert (update_or_create
    took six statements, two of them savepoints, inside the verdict's transaction).
    """
    row = SessionFace(
        account=account,
        session_id=session_id,
        embedding=embedding_to_bytes(embedding),
        engine=engine,
        model_version=model_version,
    )
    SessionFace.objects.bulk_create(
        [row],
        update_conflicts=True,
        unique_fields=["session_id"],
        update_fields=["account", "embedding", "engine", "model_version"],
    )


def session_faces_purge(*, now: datetime | None = None) -> int:
    """Delete session embeddings older than the session-result retention; returns how many."""
    deleted, _ = SessionFace.objects.filter(created_at__lt=session_face_oldest(now=now)).delete()
    return deleted
