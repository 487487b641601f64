"""1:N search: one contiguous float32 matrix per collection, invalidated by the database version."""

from __future__ import annotations

import uuid

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.faces.models import Face, FaceCollection, FaceCollectionChange
from apps.faces.search import CollectionMatrix, collection_search, embedding_to_bytes, search_cache


def _unit(rng: np.random.Generator, n: int, dim: int = 16) -> np.ndarray:
    rows = rng.standard_normal((n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _matrix(rows: np.ndarray) -> CollectionMatrix:
    m = CollectionMatrix.empty(dimension=rows.shape[1], capacity=1)
    for i, row in enumerate(rows):
        m.append(face_pk=i + 1, embedding=row)
    return m


def test_the_search_matrix_is_one_contiguous_float32_block_that_finds_the_exact_nearest_row():
    rng = np.random.default_rng(7)
    rows = _unit(rng, 300)
    m = _matrix(rows)
    assert m.rows.dtype == np.float32 and m.rows.flags["C_CONTIGUOUS"]
    for index in (0, 150, 299):
        query = rows[index] + 0.05 * _unit(rng, 1)[0]
        best = m.search(embedding=query, k=3)
        assert best[0].face_pk == index + 1
        assert best[0].cosine >= best[1].cosine >= best[2].cosine
        expected = np.argsort(-(rows @ (query / np.linalg.norm(query))))[:3] + 1
        assert [c.face_pk for c in best] == list(expected)


def test_removing_a_row_keeps_every_other_row_findable():
    rng = np.random.default_rng(3)
    rows = _unit(rng, 40)
    m = _matrix(rows)
    m.remove(face_pk=5)
    assert m.size == 39
    assert all(c.face_pk != 5 for c in m.search(embedding=rows[4], k=39))
    for index in (0, 10, 39):  # 39 was swapped into row 4
        assert m.search(embedding=rows[index], k=1)[0].face_pk == index + 1


@pytest.mark.django_db
def test_a_change_made_by_another_process_is_seen_through_the_version_counter(integrator):
    rng = np.random.default_rng(11)
    rows = _unit(rng, 3)
    collection = FaceCollection.objects.create(
        account=integrator.account, collection_id="c", engine="dlib", model_version="m", dimension=16
    )
    first = Face.objects.create(collection=collection, embedding=embedding_to_bytes(rows[0]))
    assert collection_search(collection=collection, embedding=rows[1], k=5)[0].face_pk == first.pk
    # Another worker inserts a face and bumps the version; this process was not told.
    second = Face.objects.create(collection=collection, embedding=embedding_to_bytes(rows[1]))
    FaceCollection.objects.filter(pk=collection.pk).update(version=1)
    assert collection_search(collection=collection, embedding=rows[1], k=5)[0].face_pk == second.pk
    # ... and deletes one.
    second.delete()
    FaceCollection.objects.filter(pk=collection.pk).update(version=2)
    assert [c.face_pk for c in collection_search(collection=collection, embedding=rows[1], k=5)] == [first.pk]


@pytest.mark.django_db
def test_a_stale_version_is_not_reloaded_while_it_is_current(integrator, django_assert_num_queries):
    rows = _unit(np.random.default_rng(5), 2)
    collection = FaceCollection.objects.create(
        account=integrator.account, collection_id="c", engine="dlib", model_version="m", dimension=16
    )
    Face.objects.create(collection=collection, embedding=embedding_to_bytes(rows[0]))
    collection_search(collection=collection, embedding=rows[0])
    # Warm: one query for the version, none for the embeddings.
    with django_assert_num_queries(1):
        collection_search(collection=collection, embedding=rows[0])


@pytest.mark.django_db(transaction=True)
def test_this_processs_own_write_patches_its_cached_matrix_on_commit(integrator, embed, faces):
    import uuid

    from apps.faces.recognition import face_recognition_apply
    from apps.faces.services import face_delete
    from apps.verifications.session_config import FaceRecognitionConfig

    def enrol(image: bytes) -> str:
        e = embed(image)
        return face_recognition_apply(
            account=integrator.account,
            config=FaceRecognitionConfig.from_json({"type": "CalculationOnly", "collectionId": "c"}),
            embedding=e.embedding,
            engine=e.engine,
            model_version=e.model_version,
            external_id=None,
            session_id=uuid.uuid4(),
        ).face_id

    first = enrol(faces.people[0])
    second = enrol(faces.people[1])
    collection = FaceCollection.objects.get(collection_id="c")
    cached = search_cache.matrix(collection=collection, version=collection.version)
    pks = {f.face_id: f.pk for f in Face.objects.all()}
    assert cached.version == collection.version
    assert list(cached.face_pks[: cached.size]) == [pks[first], pks[second]]
    face_delete(account=integrator.account, face_id=first)
    collection.refresh_from_db()
    patched = search_cache.matrix(collection=collection, version=collection.version)
    assert patched is cached  # patched in place, not reloaded
    assert list(patched.face_pks[: patched.size]) == [pks[second]]


@settings(max_examples=60, deadline=None)
@given(
    ops=st.lists(st.tuples(st.booleans(), st.integers(0, 30)), min_size=1, max_size=60),
    seed=st.integers(0, 2**16),
)
def test_after_any_appends_and_removals_the_search_equals_brute_force(ops, seed):
    rng = np.random.default_rng(seed)
    vectors = _unit(rng, 31, dim=8)
    matrix = CollectionMatrix.empty(dimension=8, capacity=1)
    live: set[int] = set()
    for add, index in ops:
        if add and index not in live:
            matrix.append(face_pk=index + 1, embedding=vectors[index] * 3.0)  # norms do not matter
            live.add(index)
        elif not add and index in live:
            matrix.remove(face_pk=index + 1)
            live.discard(index)
    query = _unit(rng, 1, dim=8)[0]
    found = matrix.search(embedding=query, k=3)
    expected = sorted(live, key=lambda i: -float(vectors[i] @ query))[:3]
    assert matrix.size == len(live)
    assert [c.face_pk - 1 for c in found] == expected


_OTHER_WORKER = """
import json, sys
import django
django.setup()
import numpy as np
from django.db import transaction
from apps.faces.models import FaceCollection
from apps.faces.services import _face_insert, face_delete

args = json.loads(sys.argv[1])
collection = FaceCollection.objects.get(pk=args["collection"])
if args["delete"]:
    face_delete(account=collection.account, face_id=args["delete"])
else:
    with transaction.atomic():
        face = _face_insert(
            collection=FaceCollection.objects.select_for_update().get(pk=collection.pk),
            embedding=np.asarray(args["embedding"], np.float32), external_id=None, session_id=None,
        )
    print(face.face_id)
"""


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_a_face_another_worker_process_adds_or_deletes_is_seen_by_this_processs_cached_matrix(integrator, monkeypatch):
    import json
    import os
    import subprocess
    import sys

    from django.conf import settings as django_settings

    from tests.conftest import require_postgres

    require_postgres()
    db = django_settings.DATABASES["default"]
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"

    def other_worker(**args) -> str:
        env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
        command = [sys.executable, "-c", _OTHER_WORKER, json.dumps(args)]
        child = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert child.returncode == 0, child.stderr[-2000:]
        return child.stdout.strip()

    rows = _unit(np.random.default_rng(21), 2)
    collection = FaceCollection.objects.create(
        account=integrator.account, collection_id="c", engine="dlib", model_version="m", dimension=16
    )
    first = Face.objects.create(collection=collection, embedding=embedding_to_bytes(rows[0]))
    assert [c.face_pk for c in collection_search(collection=collection, embedding=rows[1], k=5)] == [first.pk]
    loads = _full_loads(monkeypatch)
    face_id = other_worker(collection=collection.pk, embedding=rows[1].tolist(), delete=None)
    added = Face.objects.get(face_id=face_id)
    assert collection_search(collection=collection, embedding=rows[1], k=5)[0].face_pk == added.pk
    other_worker(collection=collection.pk, delete=face_id)
    assert [c.face_pk for c in collection_search(collection=collection, embedding=rows[1], k=5)] == [first.pk]
    assert loads == []  # caught up from the other process's change log, not by reading every face


def _another_process_writes(monkeypatch, write):
    """Run ``write`` as another process would: with a search cache of its own, so this process's is not patched."""
    from apps.faces import search, services
    from apps.faces.search import SearchCache

    with monkeypatch.context() as patch:
        patch.setattr(services, "search_cache", SearchCache())
        patch.setattr(search, "search_cache", services.search_cache)
        return write()


def _insert(collection: FaceCollection, vector: np.ndarray) -> Face:
    from django.db import transaction

    from apps.faces.services import _face_insert

    with transaction.atomic():
        locked = FaceCollection.objects.select_for_update().get(pk=collection.pk)
        return _face_insert(collection=locked, embedding=vector, external_id=None, session_id=None)


def _full_loads(monkeypatch) -> list[int]:
    """Counts every read of a whole collection (CollectionMatrix.load) from here on."""
    loads: list[int] = []
    original = CollectionMatrix.load.__func__

    def counted(cls, *, collection, version):
        loads.append(version)
        return original(cls, collection=collection, version=version)

    monkeypatch.setattr(CollectionMatrix, "load", classmethod(counted))
    return loads


@pytest.mark.django_db(transaction=True)
def test_faces_other_processes_add_and_delete_are_read_from_the_change_log_not_the_whole_collection(
    integrator, monkeypatch, django_assert_max_num_queries
):
    """Every passed session stores a new face in the account's collection; with two or more processes, each
    verdict used to find its cached matrix stale and read every face again, holding the collection's lock."""
    from apps.faces.services import face_delete

    rng = np.random.default_rng(31)
    rows = _unit(rng, 60)
    collection = FaceCollection.objects.create(
        account=integrator.account, collection_id="c", engine="dlib", model_version="m", dimension=16
    )
    stored = [_insert(collection, rows[i]) for i in range(50)]
    search_cache.forget(collection_pk=collection.pk)
    loads = _full_loads(monkeypatch)
    assert collection_search(collection=collection, embedding=rows[0], k=1)[0].face_pk == stored[0].pk
    assert len(loads) == 1
    # Another process adds five faces, adds and deletes one more, and deletes one of the first fifty.
    added = _another_process_writes(monkeypatch, lambda: [_insert(collection, rows[i]) for i in range(50, 55)])
    gone = _another_process_writes(monkeypatch, lambda: _insert(collection, rows[55]))
    _another_process_writes(monkeypatch, lambda: face_delete(account=integrator.account, face_id=gone.face_id))
    _another_process_writes(monkeypatch, lambda: face_delete(account=integrator.account, face_id=stored[7].face_id))
    with django_assert_max_num_queries(3):  # the version, the change log, the new faces' rows
        found = collection_search(collection=collection, embedding=rows[52], k=60)
    assert len(loads) == 1
    live = {f.pk for f in stored if f.pk != stored[7].pk} | {f.pk for f in added}
    assert found[0].face_pk == added[2].pk
    assert sorted(c.face_pk for c in found) == sorted(live)
    matrix = search_cache.matrix(collection=collection, version=FaceCollection.objects.get(pk=collection.pk).version)
    assert matrix.size == len(live)


@pytest.mark.django_db(transaction=True)
def test_a_gap_the_change_log_does_not_cover_reads_the_whole_collection(integrator, monkeypatch):
    rng = np.random.default_rng(37)
    rows = _unit(rng, 12)
    collection = FaceCollection.objects.create(
        account=integrator.account, collection_id="c", engine="dlib", model_version="m", dimension=16
    )
    faces = [_insert(collection, rows[i]) for i in range(6)]
    loads = _full_loads(monkeypatch)
    collection_search(collection=collection, embedding=rows[0], k=1)
    assert len(loads) == 1
    # A process further behind than the log keeps (the pruning took versions it needs).
    more = _another_process_writes(monkeypatch, lambda: [_insert(collection, rows[i]) for i in range(6, 10)])
    FaceCollectionChange.objects.filter(collection=collection, version__lte=8).delete()
    found = collection_search(collection=collection, embedding=rows[8], k=12)
    assert len(loads) == 2 and found[0].face_pk == more[2].pk
    assert sorted(c.face_pk for c in found) == sorted(f.pk for f in faces + more)


@pytest.mark.django_db(transaction=True)
def test_the_session_collection_purge_deletes_in_batches_that_other_processes_catch_up_with(
    integrator, other_integrator, monkeypatch
):
    """The hourly purge looped once per face (the model's ordering went into its DISTINCT), scanned the whole
    collection under its lock each time, and left every other process to read every face again.

    PostgreSQL: the lock is a SELECT ... FOR UPDATE, which SQLite neither has nor needs."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.conftest import require_postgres

    require_postgres()

    from apps.faces import session_faces
    from apps.faces.models import FaceSighting
    from apps.faces.session_faces import SESSIONS_COLLECTION_ID, session_collection_faces_purge

    monkeypatch.setattr(session_faces, "PURGE_BATCH", 2)
    rows = _unit(np.random.default_rng(47), 10)
    mine, theirs = (
        FaceCollection.objects.create(
            account=account, collection_id=SESSIONS_COLLECTION_ID, engine="dlib", model_version="m", dimension=16
        )
        for account in (integrator.account, other_integrator.account)
    )
    faces = [_insert(mine, rows[i]) for i in range(8)]
    FaceSighting.objects.bulk_create(FaceSighting(face=f, session_id=uuid.uuid4()) for f in faces)
    other = _insert(theirs, rows[8])
    stale = [faces[i].pk for i in (0, 2, 3, 5, 7)] + [other.pk]
    Face.objects.filter(pk__in=stale).update(last_seen_at="2000-01-01T00:00:00Z")
    loads = _full_loads(monkeypatch)
    collection_search(collection=mine, embedding=rows[0], k=1)
    with CaptureQueriesContext(connection) as queries:
        assert _another_process_writes(monkeypatch, session_collection_faces_purge) == 6
    locks = [q for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
    assert len(locks) == 4  # batches of 2, 2 and 1 in one collection, 1 in the other: not one per face
    found = collection_search(collection=mine, embedding=rows[0], k=10)
    assert len(loads) == 1  # caught up from the log
    assert sorted(c.face_pk for c in found) == sorted(faces[i].pk for i in (1, 4, 6))
    assert not FaceSighting.objects.filter(face_id__in=stale).exists()


@pytest.mark.django_db(transaction=True)
def test_a_face_a_full_read_already_holds_is_not_added_twice_when_the_log_catches_up(integrator, monkeypatch):
    """A full read takes the version before the rows, so it can hold a face added right after that version."""
    rows = _unit(np.random.default_rng(41), 4)
    collection = FaceCollection.objects.create(
        account=integrator.account, collection_id="c", engine="dlib", model_version="m", dimension=16
    )
    first = _insert(collection, rows[0])
    before = FaceCollection.objects.get(pk=collection.pk).version
    later = _another_process_writes(monkeypatch, lambda: _insert(collection, rows[1]))
    search_cache.forget(collection_pk=collection.pk)
    assert search_cache.matrix(collection=collection, version=before).size == 2  # read after the add committed
    found = collection_search(collection=collection, embedding=rows[1], k=4)
    assert [c.face_pk for c in found] == [later.pk, first.pk]


@pytest.mark.django_db
def test_the_change_log_keeps_only_the_last_versions_of_a_collection(integrator, monkeypatch):
    monkeypatch.setattr("apps.faces.services.CHANGES_KEPT", 10)
    rows = _unit(np.random.default_rng(43), 100)
    collection = FaceCollection.objects.create(
        account=integrator.account, collection_id="c", engine="dlib", model_version="m", dimension=16
    )
    for row in rows:
        _insert(collection, row)
    versions = FaceCollectionChange.objects.filter(collection=collection).values_list("version", flat=True)
    assert sorted(versions) == list(range(91, 101))  # pruned at the 100th version


@pytest.mark.django_db
def test_a_process_keeps_at_most_the_configured_bytes_of_matrices_least_recently_searched_out_first(
    integrator, settings
):
    """A long-lived process kept every collection it ever searched, deleted ones too: another process's delete
    cannot reach its cache (82 MB for twenty deleted 2,000-face collections in the review's probe)."""
    rng = np.random.default_rng(53)
    collections = []
    for name in "abc":
        collection = FaceCollection.objects.create(
            account=integrator.account, collection_id=name, engine="dlib", model_version="m", dimension=16
        )
        for row in _unit(rng, 100):
            Face.objects.create(collection=collection, embedding=embedding_to_bytes(row))
        collections.append(collection)
    one = CollectionMatrix.from_arrays(rows=_unit(rng, 100), face_pks=np.arange(100)).nbytes
    settings.FACES_SEARCH_CACHE_MAX_BYTES = 2 * one
    a, b, c = collections
    for collection in (a, b, a, c):  # a searched again: b is the least recent when c comes
        collection_search(collection=collection, embedding=_unit(rng, 1)[0], k=1)
    assert set(search_cache._matrices) == {a.pk, c.pk}
    settings.FACES_SEARCH_CACHE_MAX_BYTES = 0  # the one just searched always stays
    collection_search(collection=b, embedding=_unit(rng, 1)[0], k=1)
    assert set(search_cache._matrices) == {b.pk}
