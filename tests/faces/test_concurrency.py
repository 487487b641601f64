"""Two sessions of one person finishing at the same moment still leave one faceId (PostgreSQL row lock)."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection

from apps.faces.models import Face
from apps.faces.recognition import face_recognition_apply
from apps.verifications.session_config import FaceRecognitionConfig
from tests.conftest import require_postgres


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_sessions_of_one_person_keep_one_face_id(integrator, embed, faces):
    require_postgres()
    # Create the collection first, as the row lock serialises writers of an existing collection.
    first = embed(faces.astronaut)
    again = embed(faces.astronaut_again)
    config = FaceRecognitionConfig.from_json({"type": "CalculationOnly", "collectionId": "race"})
    face_recognition_apply(
        account=integrator.account,
        config=config,
        embedding=embed(faces.people[0]).embedding,
        engine=first.engine,
        model_version=first.model_version,
        external_id=None,
        session_id=uuid.uuid4(),
    )
    barrier = threading.Barrier(2)
    results: list[str | None] = []
    errors: list[BaseException] = []

    def worker(embedding: tuple[float, ...]) -> None:
        try:
            barrier.wait(timeout=10)
            outcome = face_recognition_apply(
                account=integrator.account,
                config=config,
                embedding=embedding,
                engine=first.engine,
                model_version=first.model_version,
                external_id=None,
                session_id=uuid.uuid4(),
            )
            results.append(outcome.face_id)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(e.embedding,)) for e in (first, again)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert len(results) == 2 and results[0] == results[1]
    assert Face.objects.filter(collection__collection_id="race").count() == 2  # person 0 and the astronaut
