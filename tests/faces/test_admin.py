"""The faces admin deletes as the API does: a collection's session embeddings go with it."""

from __future__ import annotations

import base64

import pytest
from django.urls import reverse

from apps.faces.enrolment import USERS_COLLECTION_ID
from apps.faces.models import FaceCollection, SessionFace
from tests.faces.conftest import face_stored, new_session_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored_session(integrator, embed, faces):
    """A session whose face went into the collection "members": its id."""
    session_id = new_session_id()
    face_stored(integrator.account, embed, faces.astronaut, session_id=session_id)
    return session_id


def _compare_status(integrator, faces, session_id) -> int:
    body = {"image": base64.b64encode(faces.astronaut).decode(), "verificationSessionId": str(session_id)}
    return integrator.client.post("/v1/face/compare", body, format="json").status_code


def test_deleting_a_collection_in_the_admin_takes_its_sessions_embeddings(
    integrator, admin_client, faces, stored_session
):
    assert _compare_status(integrator, faces, stored_session) == 200
    collection = FaceCollection.objects.get(collection_id="members")
    response = admin_client.post(reverse("admin:faces_facecollection_delete", args=[collection.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not FaceCollection.objects.filter(pk=collection.pk).exists()
    assert not SessionFace.objects.filter(session_id=stored_session).exists()
    assert _compare_status(integrator, faces, stored_session) == 404


def test_deleting_collections_with_the_admin_action_takes_their_sessions_embeddings(
    integrator, admin_client, faces, stored_session
):
    collection = FaceCollection.objects.get(collection_id="members")
    body = {"action": "delete_selected", "_selected_action": [collection.pk], "post": "yes"}
    response = admin_client.post(reverse("admin:faces_facecollection_changelist"), body)
    assert response.status_code == 302
    assert not FaceCollection.objects.filter(pk=collection.pk).exists()
    assert _compare_status(integrator, faces, stored_session) == 404


def test_the_entry_users_collection_is_neither_listed_nor_deleted_in_the_admin(integrator, admin_client):
    users = FaceCollection.objects.create(
        account=integrator.account, collection_id=USERS_COLLECTION_ID, engine="dlib", model_version="m", dimension=2
    )
    listing = admin_client.get(reverse("admin:faces_facecollection_changelist"))
    assert listing.status_code == 200 and b"entry-users" not in listing.content
    admin_client.post(reverse("admin:faces_facecollection_delete", args=[users.pk]), {"post": "yes"})
    body = {"action": "delete_selected", "_selected_action": [users.pk], "post": "yes"}
    admin_client.post(reverse("admin:faces_facecollection_changelist"), body)
    assert FaceCollection.objects.filter(pk=users.pk).exists()
