"""Reads whose cost must not grow with the collection: the indexes the face list, the user list and the
session collection's purge rely on (checked in PostgreSQL's plans), and identify reading no count of faces."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.faces.models import Face, FaceCollection
from apps.faces.selectors import face_list
from apps.users.selectors import user_list
from tests.conftest import require_postgres
from tests.query_plans import only_index_kept, queryset_plan


@pytest.fixture
def collection(integrator) -> FaceCollection:
    require_postgres()
    return FaceCollection.objects.create(
        account=integrator.account, collection_id="c", engine="dlib", model_version="m", dimension=16
    )


@pytest.mark.django_db
def test_a_page_of_the_face_list_is_read_in_order_from_an_index_not_sorted(collection):
    """Sorting the whole collection for each page: 55 ms at 60,000 faces, 115 ms for page 200 (spilling to disk)."""
    only_index_kept("faces_face", "faces_face_coll_first_seen")
    plan = queryset_plan(face_list(collection=collection)[9_950:10_000], sorts=False)
    assert "faces_face_coll_first_seen" in plan and "Sort" not in plan, plan


@pytest.mark.django_db
def test_a_page_of_the_user_list_is_read_in_order_from_an_index_not_sorted(integrator):
    require_postgres()
    only_index_kept("users_entryuser", "users_user_account_created")
    plan = queryset_plan(user_list(account=integrator.account)[0:50], sorts=False)
    assert "users_user_account_created" in plan and "Sort" not in plan, plan


@pytest.mark.django_db
def test_the_purge_finds_the_faces_not_seen_since_the_cutoff_through_an_index(collection):
    """Without it each batch read the whole collection under its lock (241 ms a pass at 300,000 faces)."""
    unseen = Face.objects.filter(collection=collection, last_seen_at__lt=timezone.now() - timedelta(days=30))
    only_index_kept("faces_face", "faces_face_coll_last_seen")
    plan = queryset_plan(unseen.order_by().values_list("pk", flat=True)[:1000])
    assert "faces_face_coll_last_seen" in plan, plan
