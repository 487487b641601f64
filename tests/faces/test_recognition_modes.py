"""The four faceRecognition modes, with real faces, as a session's verdict applies them."""

from __future__ import annotations

import base64
import uuid

import pytest

from apps.faces.models import Face, FaceCollection
from apps.faces.recognition import face_recognition_apply
from apps.verifications.session_config import FaceRecognitionConfig

pytestmark = pytest.mark.django_db


@pytest.fixture
def apply(integrator, embed):
    """apply(mode, image, external_id=None, collection="members") -> (outcome, session_id)."""

    def run(
        mode: str,
        image: bytes,
        external_id: str | None = None,
        collection: str = "members",
        account=None,
        threshold: float | None = None,
    ):
        e = embed(image)
        session_id = uuid.uuid4()
        block = {"type": mode, "collectionId": collection}
        if threshold is not None:
            block["similarityThreshold"] = threshold
        outcome = face_recognition_apply(
            account=account or integrator.account,
            config=FaceRecognitionConfig.from_json(block),
            embedding=e.embedding,
            engine=e.engine,
            model_version=e.model_version,
            external_id=external_id,
            session_id=session_id,
        )
        return outcome, session_id

    return run


def test_calculation_only_stores_the_face_and_returns_a_32_hex_face_id(apply, faces):
    outcome, session_id = apply("CalculationOnly", faces.astronaut)
    assert outcome.result == "Pass"
    assert len(outcome.face_id) == 32 and int(outcome.face_id, 16) >= 0
    face = Face.objects.get(face_id=outcome.face_id)
    assert list(face.sightings.values_list("session_id", flat=True)) == [session_id]
    assert face.collection.collection_id == "members"


def test_the_same_person_in_two_sessions_keeps_one_face_id(apply, faces):
    first, s1 = apply("CalculationOnly", faces.astronaut)
    second, s2 = apply("CalculationOnly", faces.astronaut_again)
    assert second.face_id == first.face_id
    face = Face.objects.get(face_id=first.face_id)
    assert set(face.sightings.values_list("session_id", flat=True)) == {s1, s2}
    assert face.last_seen_at >= face.first_seen_at
    assert Face.objects.count() == 1


def test_a_different_person_gets_a_new_face_id(apply, faces):
    ids = {apply("CalculationOnly", image)[0].face_id for image in (faces.astronaut, *faces.people)}
    assert len(ids) == 7
    assert Face.objects.count() == 7


def test_duplicate_verification_passes_a_new_face_and_fails_a_stored_one(apply, faces):
    first, _ = apply("DuplicateVerification", faces.people[0])
    assert (first.result, first.reasons) == ("Pass", ())
    again, _ = apply("DuplicateVerification", faces.person0_again)
    assert again.result == "Fail"
    assert again.reasons == ("duplicateFace",)
    assert again.face_id == first.face_id  # the earlier enrolment, so the integrator can find it
    other, _ = apply("DuplicateVerification", faces.people[1])
    assert other.result == "Pass" and other.face_id != first.face_id
    assert Face.objects.count() == 2


def test_unique_match_verification_needs_a_re_external_id(apply, faces):
    outcome, _ = apply("UniqueMatchVerification", faces.people[2], external_id=None)
    assert (outcome.result, outcome.reasons) == ("Fail", ("externalIdRequired",))
    assert not Face.objects.exists()


def test_unique_match_verification_enrols_an_unknown_identifier_then_matches_it(apply, faces):
    enrolled, _ = apply("UniqueMatchVerification", faces.astronaut, external_id="user-1")
    assert enrolled.result == "Pass"
    assert Face.objects.get(face_id=enrolled.face_id).external_id == "user-1"
    again, _ = apply("UniqueMatchVerification", faces.astronaut_again, external_id="user-1")
    assert (again.result, again.face_id) == ("Pass", enrolled.face_id)


def test_unique_match_verification_fails_another_face_under_a_known_identifier(apply, faces):
    apply("UniqueMatchVerification", faces.astronaut, external_id="user-1")
    outcome, _ = apply("UniqueMatchVerification", faces.people[3], external_id="user-1")
    assert (outcome.result, outcome.reasons) == ("Fail", ("faceMismatch",))
    assert Face.objects.count() == 1


def test_unique_match_verification_fails_a_face_already_stored_under_another_identifier(apply, faces):
    apply("UniqueMatchVerification", faces.people[0], external_id="user-1")
    outcome, _ = apply("UniqueMatchVerification", faces.person0_again, external_id="user-2")
    assert (outcome.result, outcome.reasons) == ("Fail", ("faceRegisteredToOtherExternalId",))
    assert not Face.objects.filter(external_id="user-2").exists()


def test_match_verification_passes_only_the_face_stored_under_the_identifier(apply, faces):
    enrolled, _ = apply("UniqueMatchVerification", faces.astronaut, external_id="user-1")
    same, _ = apply("MatchVerification", faces.astronaut_again, external_id="user-1")
    assert (same.result, same.face_id) == ("Pass", enrolled.face_id)
    other, _ = apply("MatchVerification", faces.people[4], external_id="user-1")
    assert (other.result, other.reasons) == ("Fail", ("faceMismatch",))
    unknown, _ = apply("MatchVerification", faces.astronaut, external_id="nobody")
    assert (unknown.result, unknown.reasons) == ("Fail", ("externalIdUnknown",))
    missing, _ = apply("MatchVerification", faces.astronaut, external_id=None)
    assert (missing.result, missing.reasons) == ("Fail", ("externalIdRequired",))
    assert Face.objects.count() == 1  # MatchVerification never stores


def test_a_collection_refuses_embeddings_of_another_model(integrator, apply, faces, embed):
    apply("CalculationOnly", faces.astronaut)
    e = embed(faces.people[5])
    outcome = face_recognition_apply(
        account=integrator.account,
        config=FaceRecognitionConfig.from_json({"type": "CalculationOnly", "collectionId": "members"}),
        embedding=e.embedding,
        engine=e.engine,
        model_version="some-other-model",
        external_id=None,
        session_id=uuid.uuid4(),
    )
    assert (outcome.result, outcome.reasons) == ("Fail", ("collectionEngineMismatch",))
    assert Face.objects.count() == 1


def test_changing_the_collection_id_detaches_the_old_collection_without_deleting_it(apply, faces):
    old, _ = apply("CalculationOnly", faces.astronaut, collection="members")
    new, _ = apply("CalculationOnly", faces.astronaut_again, collection="members-2026")
    assert new.face_id != old.face_id  # faceIds are per collection
    assert Face.objects.filter(face_id=old.face_id, collection__collection_id="members").exists()
    assert set(FaceCollection.objects.values_list("collection_id", flat=True)) == {"members", "members-2026"}


def test_collections_of_two_accounts_never_share_faces(apply, faces, other_integrator):
    mine, _ = apply("DuplicateVerification", faces.astronaut)
    theirs, _ = apply("DuplicateVerification", faces.astronaut_again, account=other_integrator.account)
    assert theirs.result == "Pass"  # not a duplicate: the other account's collection of the same name is separate
    assert theirs.face_id != mine.face_id
    assert FaceCollection.objects.count() == 2


def test_a_session_without_a_face_or_without_face_recognition_is_not_executed(integrator, embed, faces):
    e = embed(faces.astronaut)
    base = dict(account=integrator.account, engine=e.engine, model_version=e.model_version, external_id=None)
    no_face = face_recognition_apply(
        config=FaceRecognitionConfig.from_json({"type": "CalculationOnly", "collectionId": "x"}),
        embedding=None,
        session_id=uuid.uuid4(),
        **base,
    )
    disabled = FaceRecognitionConfig()
    no_config = face_recognition_apply(config=disabled, embedding=e.embedding, session_id=uuid.uuid4(), **base)
    assert no_face.result == no_config.result == "NotExecuted"
    assert not FaceCollection.objects.exists()


# Another photo of the astronaut is 0.86 similar to the first (dlib); two different people of t1.jpg about 0.41.


def test_a_config_threshold_above_the_similarity_makes_another_photo_of_a_person_someone_else(apply, faces):
    first, _ = apply("DuplicateVerification", faces.astronaut, threshold=0.9)
    again, _ = apply("DuplicateVerification", faces.astronaut_again, threshold=0.9)
    assert first.result == again.result == "Pass" and again.face_id != first.face_id
    apply("UniqueMatchVerification", faces.person0_again, "p0", collection="strict")
    strict, _ = apply("MatchVerification", faces.people[0], "p0", collection="strict", threshold=0.9)
    assert strict.result == "Fail" and strict.reasons == ("faceMismatch",)
    default, _ = apply("MatchVerification", faces.people[0], "p0", collection="strict")
    assert default.result == "Pass"


def test_a_config_threshold_below_the_similarity_makes_two_people_one(apply, faces):
    for collection in ("default", "lax"):
        apply("DuplicateVerification", faces.people[0], collection=collection)
    engine_says, _ = apply("DuplicateVerification", faces.people[1], collection="default")
    assert engine_says.result == "Pass"  # 0.41: two people to the engine
    lax, _ = apply("DuplicateVerification", faces.people[1], collection="lax", threshold=0.35)
    assert lax.result == "Fail" and lax.reasons == ("duplicateFace",)
    person0 = Face.objects.get(collection__collection_id="lax")
    assert lax.face_id == person0.face_id
    found, _ = apply("CalculationOnly", faces.people[1], collection="lax", threshold=0.35)
    assert found.face_id == person0.face_id and Face.objects.filter(collection__collection_id="lax").count() == 1


def _alice_then_a_refused_session(apply, faces, refusal: str) -> tuple[str, uuid.UUID]:
    """alice's face, then a UniqueMatchVerification session of the same person refused with ``refusal``."""
    alice, _ = apply("UniqueMatchVerification", faces.astronaut, external_id="alice")
    if refusal == "faceMismatch":  # mallory is someone else; the session's face is alice's
        apply("UniqueMatchVerification", faces.people[3], external_id="mallory")
    if refusal == "registeredToBoth":  # a stricter config stored the same person again under mallory
        apply("CalculationOnly", faces.astronaut_again, external_id="mallory", threshold=0.9)
    image = faces.astronaut if refusal == "registeredToBoth" else faces.astronaut_again  # alice's is the best match
    outcome, session_id = apply("UniqueMatchVerification", image, external_id="mallory")
    expected = "faceMismatch" if refusal == "faceMismatch" else "faceRegisteredToOtherExternalId"
    assert (outcome.result, outcome.reasons) == ("Fail", (expected,))
    return alice.face_id, session_id


@pytest.mark.parametrize("refusal", ["registeredToOther", "registeredToBoth", "faceMismatch"])
def test_deleting_a_face_takes_the_embedding_of_a_session_refused_because_of_it(integrator, apply, faces, refusal):
    from apps.faces.models import SessionFace

    face_id, session_id = _alice_then_a_refused_session(apply, faces, refusal)
    assert session_id in Face.objects.get(face_id=face_id).sightings.values_list("session_id", flat=True)
    assert integrator.client.delete(f"/v1/face/delete?faceId={face_id}").status_code == 200
    assert not SessionFace.objects.filter(session_id=session_id).exists()
    body = {"image": base64.b64encode(faces.astronaut).decode(), "verificationSessionId": str(session_id)}
    assert integrator.client.post("/v1/face/compare", body, format="json").status_code == 404
