"""Exact 1:N cosine search over one contiguous float32 matrix per collection.

Each worker process keeps, per collection, the L2-normalised embeddings as rows
of one C-contiguous float32 matrix plus the parallel row -> face mapping. A
search is one matrix-vector product and an argpartition: no index, no
approximation. The cache is keyed by the collection's ``version`` in the
database, which every write bumps. When the only change since was this process's
own write, the rows are patched in place; when other processes wrote, the
changes they logged (``FaceCollectionChange``) are applied; only when the log
does not cover the gap (a process more than ``CHANGES_KEPT`` versions behind)
is the whole collection read again. Without the log, every
process re-read every face after each new face another process stored, under
the collection's row lock: a verdict's cost grew with the collection.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from .models import Face, FaceCollection, FaceCollectionChange

# Versions of a collection whose change rows are kept for processes catching up (one row per version).
CHANGES_KEPT = 10_000


@dataclass(frozen=True)
class Candidate:
    face_pk: int
    cosine: float


def embedding_to_bytes(embedding: tuple[float, ...] | list[float] | np.ndarray) -> bytes:
    return np.asarray(embedding, dtype="<f4").tobytes()


def embedding_from_bytes(data: bytes | memoryview) -> np.ndarray:
    return np.frombuffer(bytes(data), dtype="<f4")


def normalise(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return (vector / norm).astype(np.float32) if norm > 0 else vector.astype(np.float32)


def normalise_rows(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    rows /= norms
    return rows


@dataclass
class CollectionMatrix:
    """Rows ``[0:size]`` of ``rows`` are live; spare capacity makes appends amortised O(1).

    Only the face primary keys sit next to the matrix (8 bytes a row); callers
    fetch the few winning rows from the database.
    """

    version: int
    dimension: int
    rows: np.ndarray
    face_pks: np.ndarray
    size: int

    @classmethod
    def empty(cls, *, dimension: int, capacity: int = 16, version: int = 0) -> CollectionMatrix:
        return cls(
            version=version,
            dimension=dimension,
            rows=np.empty((max(capacity, 16), dimension), dtype=np.float32),
            face_pks=np.empty(max(capacity, 16), dtype=np.int64),
            size=0,
        )

    @classmethod
    def from_arrays(cls, *, rows: np.ndarray, face_pks: np.ndarray, version: int = 0) -> CollectionMatrix:
        """A matrix over ``rows`` (n x d, normalised here, in place when already float32 and contiguous)."""
        rows = normalise_rows(np.ascontiguousarray(rows, dtype=np.float32))
        return cls(
            version=version,
            dimension=rows.shape[1],
            rows=rows,
            face_pks=np.ascontiguousarray(face_pks, dtype=np.int64),
            size=rows.shape[0],
        )

    @classmethod
    def load(cls, *, collection: FaceCollection, version: int) -> CollectionMatrix:
        pks: list[int] = []
        blobs: list[bytes] = []
        faces = Face.objects.filter(collection_id=collection.pk).order_by("id").values_list("id", "embedding")
        for pk, embedding in faces.iterator(chunk_size=10_000):
            pks.append(pk)
            blobs.append(bytes(embedding))
        if not pks:
            return cls.empty(dimension=collection.dimension, version=version)
        rows = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(pks), collection.dimension).copy()
        return cls.from_arrays(rows=rows, face_pks=np.asarray(pks, dtype=np.int64), version=version)

    def append(self, *, face_pk: int, embedding: np.ndarray) -> None:
        if self.size == self.rows.shape[0]:
            capacity = max(16, self.rows.shape[0] * 2)
            grown = np.empty((capacity, self.dimension), dtype=np.float32)
            grown[: self.size] = self.rows[: self.size]
            pks = np.empty(capacity, dtype=np.int64)
            pks[: self.size] = self.face_pks[: self.size]
            self.rows, self.face_pks = grown, pks
        self.rows[self.size] = normalise(np.asarray(embedding, dtype=np.float32))
        self.face_pks[self.size] = face_pk
        self.size += 1

    def remove(self, *, face_pk: int) -> None:
        hits = np.flatnonzero(self.face_pks[: self.size] == face_pk)
        if hits.size == 0:
            return
        index, last = int(hits[0]), self.size - 1
        # Swap-remove keeps the live rows contiguous without shifting the matrix.
        self.rows[index] = self.rows[last]
        self.face_pks[index] = self.face_pks[last]
        self.size = last

    def remove_many(self, *, face_pks: Sequence[int]) -> None:
        """Remove every row of ``face_pks`` in one pass (a purge's batch); order is kept."""
        if len(face_pks) == 1:
            self.remove(face_pk=face_pks[0])
            return
        live = self.face_pks[: self.size]
        keep = ~np.isin(live, np.asarray(face_pks, dtype=np.int64))
        kept = int(keep.sum())
        if kept != self.size:
            self.rows[:kept] = self.rows[: self.size][keep]
            self.face_pks[:kept] = live[keep]
            self.size = kept

    def search(self, *, embedding: np.ndarray, k: int) -> list[Candidate]:
        """The ``k`` rows with the highest cosine similarity to ``embedding``, best first (exact)."""
        if self.size == 0:
            return []
        scores = self.rows[: self.size] @ normalise(np.asarray(embedding, dtype=np.float32))
        found: list[Candidate] = []
        # k is tiny (a few candidates): k argmax passes beat a full argpartition of a million scores.
        for _ in range(min(k, self.size)):
            index = int(np.argmax(scores))
            found.append(Candidate(int(self.face_pks[index]), float(scores[index])))
            scores[index] = -np.inf
        return found

    @property
    def nbytes(self) -> int:
        return int(self.rows.nbytes + self.face_pks.nbytes)


class SearchCache:
    """Per-process cache of collection matrices, checked against the database version on every use.

    At most ``FACES_SEARCH_CACHE_MAX_BYTES`` of matrices are kept, the least recently searched going first (the
    newest always stays): without a bound a long-lived process kept every collection it ever searched, deleted
    ones too (another process's delete cannot reach this cache).
    """

    def __init__(self) -> None:
        self._matrices: OrderedDict[int, CollectionMatrix] = OrderedDict()
        self._lock = threading.Lock()

    def matrix(self, *, collection: FaceCollection, version: int) -> CollectionMatrix:
        with self._lock:
            cached = self._matrices.get(collection.pk)
            if cached is not None:
                self._matrices.move_to_end(collection.pk)
            if cached is not None and cached.version == version and cached.dimension == collection.dimension:
                return cached
        if cached is not None and cached.dimension == collection.dimension and cached.version < version:
            if self._catch_up(cached, collection_pk=collection.pk, version=version):
                self._bound()
                return cached
        fresh = CollectionMatrix.load(collection=collection, version=version)
        with self._lock:
            self._matrices[collection.pk] = fresh
            self._matrices.move_to_end(collection.pk)
        self._bound()
        return fresh

    def _bound(self) -> None:
        limit = int(settings.FACES_SEARCH_CACHE_MAX_BYTES)
        with self._lock:
            total = sum(m.nbytes for m in self._matrices.values())
            while total > limit and len(self._matrices) > 1:
                total -= self._matrices.popitem(last=False)[1].nbytes

    def _catch_up(self, cached: CollectionMatrix, *, collection_pk: int, version: int) -> bool:
        """Apply the logged changes between the cached version and ``version``; False when they are not all logged."""
        start = cached.version
        changes = list(
            FaceCollectionChange.objects.filter(collection_id=collection_pk, version__gt=start, version__lte=version)
            .order_by("version")
            .values_list("face_pk", "added")
        )
        if len(changes) != version - start:
            return False
        added = [pk for pk, is_added in changes if is_added]
        stored = dict(Face.objects.filter(collection_id=collection_pk, pk__in=added).values_list("id", "embedding"))
        with self._lock:
            if self._matrices.get(collection_pk) is not cached or cached.version != start:
                return False  # another thread moved it meanwhile
            # A full load reads the version before the rows, so it may hold a face added just after it.
            cached.remove_many(face_pks=[pk for pk, is_added in changes if not is_added])
            # A face id is never used twice, so the removals and the additions can go in either order; an added
            # face that is gone since is absent from ``stored``.
            for face_pk in added:
                if face_pk in stored and not (cached.face_pks[: cached.size] == face_pk).any():
                    cached.append(face_pk=face_pk, embedding=embedding_from_bytes(stored[face_pk]))
            cached.version = version
        return True

    def after_write(
        self,
        *,
        collection: FaceCollection,
        old_version: int,
        new_version: int,
        added: Face | None = None,
        removed_pks: Sequence[int] = (),
        embedding: np.ndarray | None = None,
    ) -> None:
        """Patch the cached matrix after this process's own write, if nothing else changed in between."""
        with self._lock:
            cached = self._matrices.get(collection.pk)
            if cached is None or cached.version != old_version:
                self._matrices.pop(collection.pk, None)
                return
            if added is not None and embedding is not None:
                cached.append(face_pk=added.pk, embedding=embedding)
            if removed_pks:
                cached.remove_many(face_pks=removed_pks)
            cached.version = new_version
        self._bound()

    def forget(self, *, collection_pk: int) -> None:
        with self._lock:
            self._matrices.pop(collection_pk, None)

    def clear(self) -> None:
        with self._lock:
            self._matrices.clear()


search_cache = SearchCache()


def collection_version(*, collection_pk: int) -> int | None:
    """The current version in the database (one indexed lookup), or None if the collection is gone."""
    return FaceCollection.objects.filter(pk=collection_pk).values_list("version", flat=True).first()


def collection_search(*, collection: FaceCollection, embedding: np.ndarray, k: int = 1) -> list[Candidate]:
    """The ``k`` stored faces with the highest cosine similarity, best first."""
    version = collection_version(collection_pk=collection.pk)
    if version is None:
        search_cache.forget(collection_pk=collection.pk)
        return []
    return search_cache.matrix(collection=collection, version=version).search(embedding=embedding, k=k)
