"""The four collection modes of a session's faceRecognition config (001): CalculationOnly,
DuplicateVerification, UniqueMatchVerification, MatchVerification.

Each runs under the collection's row lock (``services._collection_for_write``). Two faces are
one person at or above the config's ``similarityThreshold``, else where the engine says so
(dlib: 0.5).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from django.db import transaction

from apps.accounts.models import Account
from apps.core.engine import get_engine
from apps.face_engine.types import FaceEngine
from apps.verifications.enums import FaceRecognitionType, VerifierResult
from apps.verifications.session_config import FaceRecognitionConfig

from .models import Face, FaceCollection
from .search import embedding_from_bytes
from .services import (
    DUPLICATE_FACE,
    ENGINE_MISMATCH,
    EXTERNAL_ID_REQUIRED,
    EXTERNAL_ID_UNKNOWN,
    FACE_MISMATCH,
    FACE_REGISTERED_TO_OTHER_ID,
    NOT_EXECUTED,
    FaceRecognitionOutcome,
    Match,
    _collection_for_write,
    _face_insert,
    _face_seen,
    collection_accepts,
    embedding_model_version,
    face_best_match,
    same_person,
    session_face_record,
)


@dataclass(frozen=True)
class Probe:
    """One session's face against one locked collection: what every mode works with."""

    engine: FaceEngine
    collection: FaceCollection
    vector: np.ndarray
    external_id: str | None  # the session's reExternalId
    session_id: uuid.UUID
    threshold: float | None  # the config's similarityThreshold; None: the engine's

    def best_match(self) -> Match | None:
        return face_best_match(
            engine=self.engine, collection=self.collection, embedding=self.vector, threshold=self.threshold
        )

    def same_as(self, face: Face) -> bool:
        stored = tuple(float(x) for x in embedding_from_bytes(face.embedding))
        return same_person(self.engine.compare(tuple(float(x) for x in self.vector), stored), self.threshold)

    def registered(self) -> Face | None:
        """The face stored under the session's reExternalId."""
        return Face.objects.filter(collection=self.collection, external_id=self.external_id).first()

    def seen(self, face: Face, *, external_id: str | None = None) -> Face:
        _face_seen(face=face, session_id=self.session_id, external_id=external_id)
        return face


def _pass(face: Face) -> FaceRecognitionOutcome:
    return FaceRecognitionOutcome(result=VerifierResult.PASS, face_id=face.face_id, reasons=())


def _fail(reason: str, face: Face | None = None) -> FaceRecognitionOutcome:
    return FaceRecognitionOutcome(result=VerifierResult.FAIL, face_id=face.face_id if face else None, reasons=(reason,))


def face_recognition_apply(
    *,
    account: Account,
    config: FaceRecognitionConfig,
    embedding: tuple[float, ...] | None,
    engine: str,
    model_version: str,
    external_id: str | None,
    session_id: uuid.UUID,
) -> FaceRecognitionOutcome:
    """Apply a session's faceRecognition config to its embedding.

    ``external_id`` is the session's ``reExternalId`` input. Runs in a (nested)
    transaction that locks the collection row, so it is safe inside the caller's
    verdict transaction and against concurrent sessions.
    """
    mode, collection_id = config.type, config.collection_id
    if mode not in _MODE_HANDLERS or not collection_id or embedding is None:
        return NOT_EXECUTED
    vector = np.asarray(embedding, dtype=np.float32)
    face_engine = get_engine()
    if face_engine.name != engine:
        return _fail(ENGINE_MISMATCH)
    model_version = model_version or embedding_model_version(face_engine.versions)
    # Kept whatever recognition decides: compare works with every session that passed liveness.
    session_face_record(
        account=account, session_id=session_id, embedding=embedding, engine=engine, model_version=model_version
    )
    if config.needs_external_id and not external_id:
        return _fail(EXTERNAL_ID_REQUIRED)
    with transaction.atomic():
        collection = _collection_for_write(
            account=account,
            collection_id=collection_id,
            engine=engine,
            model_version=model_version,
            dimension=vector.shape[0],
        )
        if not collection_accepts(collection, engine=engine, model_version=model_version, dimension=vector.shape[0]):
            return _fail(ENGINE_MISMATCH)
        probe = Probe(face_engine, collection, vector, external_id or None, session_id, config.similarity_threshold)
        return _MODE_HANDLERS[mode](probe)


def _calculation_only(probe: Probe) -> FaceRecognitionOutcome:
    match = probe.best_match()
    return _pass(probe.seen(match.face) if match is not None else _insert_unless_id_taken(probe))


def _duplicate_verification(probe: Probe) -> FaceRecognitionOutcome:
    match = probe.best_match()
    if match is not None:
        # The duplicate's faceId is reported so the integrator can find the earlier account.
        return _fail(DUPLICATE_FACE, probe.seen(match.face))
    return _pass(_insert_unless_id_taken(probe))


def _refused(probe: Probe, reason: str, *matched: Face | None) -> FaceRecognitionOutcome:
    # The session still saw these faces: as a sighting, deleting one of them takes the session's embedding too.
    for face in matched:
        if face is not None:
            probe.seen(face)
    return _fail(reason)


def _unique_match_verification(probe: Probe) -> FaceRecognitionOutcome:
    registered = probe.registered()
    match = probe.best_match()
    matched = match.face if match is not None else None
    if registered is not None:
        if not probe.same_as(registered):
            return _refused(probe, FACE_MISMATCH, matched)
        if matched is not None and matched.pk != registered.pk and matched.external_id:
            return _refused(probe, FACE_REGISTERED_TO_OTHER_ID, registered, matched)
        return _pass(probe.seen(registered))
    if matched is not None:
        if matched.external_id:
            return _refused(probe, FACE_REGISTERED_TO_OTHER_ID, matched)
        # A face stored without an identifier (e.g. by CalculationOnly) adopts this one: one person, one faceId.
        return _pass(probe.seen(matched, external_id=probe.external_id))
    return _pass(
        _face_insert(
            collection=probe.collection,
            embedding=probe.vector,
            external_id=probe.external_id,
            session_id=probe.session_id,
        )
    )


def _match_verification(probe: Probe) -> FaceRecognitionOutcome:
    registered = probe.registered()
    if registered is None:
        return _fail(EXTERNAL_ID_UNKNOWN)
    if not probe.same_as(registered):
        return _fail(FACE_MISMATCH)
    return _pass(probe.seen(registered))


def _insert_unless_id_taken(probe: Probe) -> Face:
    # In the modes that do not key on reExternalId, an identifier already held by
    # another face is not moved; the new face is stored without one.
    external_id = probe.external_id if probe.external_id and probe.registered() is None else None
    return _face_insert(
        collection=probe.collection, embedding=probe.vector, external_id=external_id, session_id=probe.session_id
    )


_MODE_HANDLERS: dict[FaceRecognitionType, Callable[[Probe], FaceRecognitionOutcome]] = {
    FaceRecognitionType.CALCULATION_ONLY: _calculation_only,
    FaceRecognitionType.DUPLICATE_VERIFICATION: _duplicate_verification,
    FaceRecognitionType.UNIQUE_MATCH_VERIFICATION: _unique_match_verification,
    FaceRecognitionType.MATCH_VERIFICATION: _match_verification,
}
