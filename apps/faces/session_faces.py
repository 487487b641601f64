"""Every session that passed liveness keeps its face: for compare against the session and for its ``faceId``.

A session whose configuration runs no face recognition still gets a ``faceId``:
its face is recognised (CalculationOnly) in the account's reserved collection
``SESSIONS_COLLECTION_ID``, so the same person keeps one ``faceId`` across
sessions, which is what continuous verification (000) compares cycle by cycle.
That collection holds a face only while it keeps being seen: a face not seen
for SESSION_RESULT_RETENTION_DAYS is deleted (``session_collection_faces_purge``).
"""

from __future__ import annotations

import functools
import uuid
from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Account
from apps.core.engine import get_engine

from .models import Face, FaceCollection, FaceSighting, SessionFace
from .recognition import Probe, _calculation_only
from .search import search_cache
from .selectors import session_faces_kept
from .services import _bump_version, _collection_for_write, collection_accepts, session_face_record

# The account's collection of session faces (no faceRecognition configured). Reserved: do not configure it.
SESSIONS_COLLECTION_ID = "liveproof.sessions"


def session_face_keep(
    *, account: Account, session_id: uuid.UUID, embedding: tuple[float, ...], engine: str, model_version: str
) -> str | None:
    """Keep a passed session's embedding (for compare) and return the person's ``faceId``.

    None when this server's engine differs from the one that made the embedding
    or from the one the account's session collection was built with.
    """
    session_face_record(
        account=account, session_id=session_id, embedding=embedding, engine=engine, model_version=model_version
    )
    face_engine = get_engine()
    vector = np.asarray(embedding, dtype=np.float32)
    if face_engine.name != engine:
        return None
    # No savepoint inside the verdict's transaction (its only caller): a failure fails the verdict's write anyway.
    with transaction.atomic(savepoint=False):
        collection = _collection_for_write(
            account=account,
            collection_id=SESSIONS_COLLECTION_ID,
            engine=engine,
            model_version=model_version,
            dimension=vector.shape[0],
        )
        if not collection_accepts(collection, engine=engine, model_version=model_version, dimension=vector.shape[0]):
            return None
        # The engine's own threshold: one person, one faceId across the account's sessions.
        outcome = _calculation_only(Probe(face_engine, collection, vector, None, session_id, None))
    return outcome.face_id


def session_face_get(*, session_id: uuid.UUID | str) -> SessionFace | None:
    """The kept face of a session that passed liveness (None when it has none, or it is past retention)."""
    return session_faces_kept().filter(session_id=session_id).first()


def session_collection_faces_purge(*, now: datetime | None = None) -> int:
    """Delete faces of the reserved session collections not seen for SESSION_RESULT_RETENTION_DAYS; how many.

    A batch at a time, each under the collection's lock and logged face by face, so the account's verdicts wait
    for one batch at most and other processes catch their search matrices up instead of reading every face again.
    """
    cutoff = (now or timezone.now()) - timedelta(days=int(settings.SESSION_RESULT_RETENTION_DAYS))
    deleted = 0
    for collection_pk in FaceCollection.objects.filter(collection_id=SESSIONS_COLLECTION_ID).values_list(
        "pk", flat=True
    ):
        while (batch := _unseen_faces_delete(collection_pk=collection_pk, cutoff=cutoff)) > 0:
            deleted += batch
            if batch < PURGE_BATCH:
                break
    return deleted


PURGE_BATCH = 1000


def _unseen_faces_delete(*, collection_pk: int, cutoff: datetime) -> int:
    with transaction.atomic():
        collection = FaceCollection.objects.select_for_update().filter(pk=collection_pk).first()
        if collection is None:
            return 0
        unseen = Face.objects.filter(collection=collection, last_seen_at__lt=cutoff).order_by()
        pks = list(unseen.values_list("pk", flat=True)[:PURGE_BATCH])
        if not pks:
            return 0
        FaceSighting.objects.filter(face_id__in=pks).delete()
        Face.objects.filter(pk__in=pks).delete()
        old, new = _bump_version(collection, removed_pks=pks)
        transaction.on_commit(
            functools.partial(
                search_cache.after_write, collection=collection, old_version=old, new_version=new, removed_pks=pks
            )
        )
    return len(pks)
