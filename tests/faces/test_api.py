"""The Face Recognition API: collections, faces, compare and identify, each scoped to its account."""

from __future__ import annotations

import base64
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.faces.recognition import face_recognition_apply
from apps.verifications.session_config import FaceRecognitionConfig

pytestmark = pytest.mark.django_db


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def enrol(integrator, embed):
    """enrol(image, external_id=None, collection="members", account=None) -> (faceId, session_id)."""

    def run(image: bytes, external_id: str | None = None, collection: str = "members", account=None):
        e = embed(image)
        session_id = uuid.uuid4()
        outcome = face_recognition_apply(
            account=account or integrator.account,
            config=FaceRecognitionConfig.from_json({"type": "CalculationOnly", "collectionId": collection}),
            embedding=e.embedding,
            engine=e.engine,
            model_version=e.model_version,
            external_id=external_id,
            session_id=session_id,
        )
        assert outcome.result == "Pass"
        return outcome.face_id, session_id

    return run


# --- collections --------------------------------------------------------------------------


def test_collection_get_answers_the_seed_shape(integrator, enrol, faces):
    enrol(faces.astronaut)
    response = integrator.client.get("/v1/collection/get", {"collectionId": "members"})
    assert response.status_code == 200
    body = response.json()["recognitionCollection"]
    assert body["collectionId"] == "members"
    assert body["description"] == ""
    assert body["createdAt"].endswith("Z") and body["updatedAt"].endswith("Z")
    assert body["faceCount"] == 1


def test_collection_get_all_lists_only_the_accounts_collections(integrator, other_integrator, enrol, faces):
    enrol(faces.astronaut, collection="a")
    enrol(faces.people[0], collection="b")
    enrol(faces.people[1], collection="theirs", account=other_integrator.account)
    mine = integrator.client.get("/v1/collection/get-all").json()["collections"]
    assert [c["collectionId"] for c in mine] == ["a", "b"]
    theirs = other_integrator.client.get("/v1/collection/get-all").json()["collections"]
    assert [c["collectionId"] for c in theirs] == ["theirs"]


def test_collection_delete_removes_it_with_its_embeddings(integrator, enrol, faces):
    face_id, _ = enrol(faces.astronaut)
    response = integrator.client.delete("/v1/collection/delete?collectionId=members")
    assert response.status_code == 200
    assert response.json() == {"collectionId": "members", "deletedFaceCount": 1}
    assert integrator.client.get("/v1/collection/get", {"collectionId": "members"}).status_code == 404
    assert integrator.client.get("/v1/face/get", {"faceId": face_id}).status_code == 404


def test_collection_update_sets_the_description(integrator, other_integrator, enrol, faces):
    enrol(faces.astronaut)
    body = {"collectionId": "members", "description": "Customers 2026"}
    response = integrator.client.post("/v1/collection/update", body, format="json")
    assert response.status_code == 200
    assert response.json()["recognitionCollection"]["description"] == "Customers 2026"
    assert other_integrator.client.post("/v1/collection/update", body, format="json").status_code == 404
    got = integrator.client.get("/v1/collection/get", {"collectionId": "members"}).json()
    assert got["recognitionCollection"]["description"] == "Customers 2026"


def test_the_face_api_is_in_the_openapi_schema(anonymous):
    import yaml

    paths = yaml.safe_load(anonymous.get("/swagger/schema.json").content)["paths"]
    for path in (
        "/v1/collection/get",
        "/v1/collection/get-all",
        "/v1/collection/delete",
        "/v1/face/get-all",
        "/v1/face/get",
        "/v1/face/delete",
        "/v1/face/compare",
        "/v1/face/identify",
    ):
        assert path in paths


def test_a_malformed_collection_id_is_a_400_naming_the_field(integrator):
    response = integrator.client.get("/v1/collection/get", {"collectionId": "x" * 129})
    assert response.status_code == 400
    assert "collectionId" in response.json()["error"]["fields"]


# --- faces -------------------------------------------------------------------------------------


def test_face_get_answers_ids_times_and_sessions_but_never_an_image(integrator, enrol, faces):
    face_id, session_id = enrol(faces.astronaut, external_id="user-7")
    body = integrator.client.get("/v1/face/get", {"faceId": face_id}).json()["face"]
    assert body["faceId"] == face_id
    assert body["externalId"] == "user-7"
    assert body["collectionId"] == "members"
    assert body["sessionIds"] == [str(session_id)]
    assert set(body) == {"faceId", "collectionId", "externalId", "firstSeenAt", "lastSeenAt", "sessionIds"}


def test_face_get_all_pages_through_a_collection(integrator, enrol, faces):
    ids = [enrol(image)[0] for image in faces.people[:5]]
    first = integrator.client.get("/v1/face/get-all", {"collectionId": "members", "pageSize": 2}).json()
    second = integrator.client.get("/v1/face/get-all", {"collectionId": "members", "pageSize": 2, "page": 3}).json()
    assert first["totalCount"] == 5
    assert [f["faceId"] for f in first["faces"]] == ids[:2]
    assert [f["faceId"] for f in second["faces"]] == ids[4:]
    too_big = integrator.client.get("/v1/face/get-all", {"collectionId": "members", "pageSize": 10_000})
    assert too_big.status_code == 400


def test_deleting_a_face_makes_it_unfindable(integrator, enrol, faces):
    face_id, session_id = enrol(faces.astronaut)
    before = integrator.client.post(
        "/v1/face/identify", {"collectionId": "members", "image": b64(faces.astronaut_again)}, format="json"
    ).json()
    assert before["match"]["faceId"] == face_id
    assert integrator.client.delete(f"/v1/face/delete?faceId={face_id}").status_code == 200
    assert integrator.client.get("/v1/face/get", {"faceId": face_id}).status_code == 404
    after = integrator.client.post(
        "/v1/face/identify", {"collectionId": "members", "image": b64(faces.astronaut_again)}, format="json"
    ).json()
    assert after["match"] is None
    # nor can the sessions it was seen in be compared with any more
    compare = {"image": b64(faces.astronaut), "verificationSessionId": str(session_id)}
    assert integrator.client.post("/v1/face/compare", compare, format="json").status_code == 404
    # and the same person enrolled again gets a new faceId
    assert enrol(faces.astronaut)[0] != face_id


# --- compare -------------------------------------------------------------------------------------


def test_compare_two_photos_of_one_person_is_identical(integrator, faces):
    response = integrator.client.post(
        "/v1/face/compare", {"image1": b64(faces.astronaut), "image2": b64(faces.astronaut_again)}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"similarity", "isIdentical", "threshold", "engine", "modelVersions"}
    assert "dlib_face_recognition_resnet_model_v1" in body["modelVersions"]
    assert body["isIdentical"] is True
    assert body["similarity"] >= body["threshold"]


def test_compare_two_people_by_multipart_upload_is_not_identical(integrator, faces):
    response = integrator.client.post(
        "/v1/face/compare",
        {
            "image1": SimpleUploadedFile("a.jpg", faces.people[0], "image/jpeg"),
            "image2": SimpleUploadedFile("b.jpg", faces.people[1], "image/jpeg"),
        },
        format="multipart",
    )
    assert response.status_code == 200, response.content
    assert response.json()["isIdentical"] is False
    assert response.json()["similarity"] < response.json()["threshold"]


@pytest.mark.parametrize(
    ("image", "code"),
    [("no_face", "noFace"), ("two_people", "multipleFaces"), ("garbage", "badImage")],
)
def test_compare_names_the_image_that_has_no_usable_face(integrator, faces, image, code):
    data = b"definitely not a jpeg" * 10 if image == "garbage" else getattr(faces, image)
    response = integrator.client.post(
        "/v1/face/compare", {"image1": b64(faces.astronaut), "image2": b64(data)}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code
    assert list(error["fields"]) == ["image2"]


def six_people() -> bytes:
    """insightface's t1.jpg as it ships: six people in one photo."""
    import os

    import insightface

    with open(os.path.join(os.path.dirname(insightface.__file__), "data", "images", "t1.jpg"), "rb") as f:
        return f.read()


# Each unusable image, and the 400 it gets: (code, what the message says after the field name).
UNUSABLE_IMAGES = [
    ("no_face", "noFace", "contains no face."),
    ("two_people", "multipleFaces", "contains more than one face."),
    ("six_people", "multipleFaces", "contains more than one face."),
    ("garbage", "badImage", "is not a usable image."),
]


def unusable(faces, image: str) -> bytes:
    if image == "garbage":
        return b"definitely not a jpeg" * 10
    if image == "six_people":
        return six_people()
    return getattr(faces, image)


def assert_names_the_image(response, field: str, code: str, detail: str) -> None:
    assert response.status_code == 400, response.content
    message = f"{field} {detail}"
    assert response.json()["error"] == {"code": code, "message": message, "fields": {field: [message]}}


@pytest.mark.parametrize(("image", "code", "detail"), UNUSABLE_IMAGES)
def test_compare_names_image1_when_the_first_photo_has_no_usable_face(integrator, faces, image, code, detail):
    response = integrator.client.post(
        "/v1/face/compare", {"image1": b64(unusable(faces, image)), "image2": b64(faces.astronaut)}, format="json"
    )
    assert_names_the_image(response, "image1", code, detail)


@pytest.mark.parametrize("transport", ["json", "multipart"])
@pytest.mark.parametrize(("image", "code", "detail"), UNUSABLE_IMAGES)
def test_compare_with_a_session_names_image_when_the_photo_has_no_usable_face(
    integrator, enrol, faces, image, code, detail, transport
):
    _, session_id = enrol(faces.astronaut)
    data = unusable(faces, image)
    if transport == "json":
        body = {"image": b64(data), "verificationSessionId": str(session_id)}
    else:
        body = {"image": SimpleUploadedFile("photo.jpg", data, "image/jpeg"), "verificationSessionId": str(session_id)}
    response = integrator.client.post("/v1/face/compare", body, format=transport)
    assert_names_the_image(response, "image", code, detail)


@pytest.mark.parametrize("transport", ["json", "multipart"])
@pytest.mark.parametrize(("image", "code", "detail"), UNUSABLE_IMAGES)
def test_identify_names_image_when_the_photo_has_no_usable_face(
    integrator, enrol, faces, image, code, detail, transport
):
    enrol(faces.astronaut)
    data = unusable(faces, image)
    if transport == "json":
        body = {"collectionId": "members", "image": b64(data)}
    else:
        body = {"collectionId": "members", "image": SimpleUploadedFile("photo.jpg", data, "image/jpeg")}
    response = integrator.client.post("/v1/face/identify", body, format=transport)
    assert_names_the_image(response, "image", code, detail)


@pytest.fixture(scope="module")
def phone_photo(faces) -> bytes:
    """A 4000 px wide, noisy (hard to compress) photo with the astronaut in it: several MB."""
    import io

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    canvas = rng.integers(90, 160, size=(3000, 4000, 3), dtype=np.uint8)
    canvas[900:2020, 1500:2540] = np.asarray(Image.open(io.BytesIO(faces.astronaut)).resize((1040, 1120)))
    out = io.BytesIO()
    Image.fromarray(canvas).save(out, format="JPEG", quality=85)
    assert 3_000_000 < len(out.getvalue()) < 10_000_000
    return out.getvalue()


def test_a_large_phone_photo_is_scaled_down_for_the_engine(integrator, faces, phone_photo):
    response = integrator.client.post(
        "/v1/face/compare",
        {"image1": SimpleUploadedFile("big.jpg", phone_photo), "image2": SimpleUploadedFile("a.jpg", faces.astronaut)},
        format="multipart",
    )
    assert response.status_code == 200, response.content
    assert response.json()["isIdentical"] is True


def test_base64_json_bodies_of_several_megabytes_are_accepted(integrator, faces, phone_photo):
    body = {"image1": b64(phone_photo), "image2": b64(faces.astronaut_again)}
    response = integrator.client.post("/v1/face/compare", body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["isIdentical"] is True


def test_a_base64_image_in_a_multipart_text_field_beyond_djangos_limit_is_a_413(integrator, phone_photo):
    response = integrator.client.post(
        "/v1/face/compare", {"image1": b64(phone_photo), "image2": "x"}, format="multipart"
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


def test_compare_refuses_invalid_base64_and_missing_images(integrator, faces):
    bad = integrator.client.post("/v1/face/compare", {"image1": "***", "image2": b64(faces.astronaut)}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["fields"] == {"image1": ["image1 is not valid base64."]}
    missing = integrator.client.post("/v1/face/compare", {"image1": b64(faces.astronaut)}, format="json")
    assert missing.status_code == 400 and "image2" in missing.json()["error"]["fields"]


@pytest.mark.parametrize("path", ["/v1/face/compare", "/v1/face/identify"])
@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "{not json", '{"image": 5, "image1": [1], "collectionId": {}}'])
def test_malformed_bodies_are_a_400_never_a_crash(integrator, path, body):
    response = integrator.client.post(path, data=body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert set(response.json()["error"]) == {"code", "message", "fields"}


def test_compare_with_a_verification_session_uses_that_sessions_face(integrator, other_integrator, enrol, faces):
    _, session_id = enrol(faces.astronaut)
    body = {"image": b64(faces.astronaut_again), "verificationSessionId": str(session_id)}
    response = integrator.client.post("/v1/face/compare", body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["isIdentical"] is True
    different = {"image": b64(faces.people[2]), "verificationSessionId": str(session_id)}
    assert integrator.client.post("/v1/face/compare", different, format="json").json()["isIdentical"] is False
    # another account's session is as unknown as a missing one
    assert other_integrator.client.post("/v1/face/compare", body, format="json").status_code == 404


def test_compare_with_a_verification_session_by_multipart_upload_answers_as_the_json_form(
    integrator, other_integrator, enrol, faces
):
    _, session_id = enrol(faces.astronaut)
    for image, identical in ((faces.astronaut_again, True), (faces.people[2], False)):
        as_json = integrator.client.post(
            "/v1/face/compare", {"image": b64(image), "verificationSessionId": str(session_id)}, format="json"
        )
        as_form = integrator.client.post(
            "/v1/face/compare",
            {"image": SimpleUploadedFile("selfie.jpg", image, "image/jpeg"), "verificationSessionId": str(session_id)},
            format="multipart",
        )
        assert as_form.status_code == 200, as_form.content
        assert as_form.json()["isIdentical"] is identical
        assert as_form.json() == as_json.json()
    # the form field is account-scoped like the JSON one
    foreign = other_integrator.client.post(
        "/v1/face/compare",
        {"image": SimpleUploadedFile("s.jpg", faces.astronaut_again), "verificationSessionId": str(session_id)},
        format="multipart",
    )
    assert foreign.status_code == 404


def test_an_oversized_compare_body_is_refused_before_parsing(integrator, settings):
    limit = settings.API_BODY_LIMITS["/v1/face/"]
    response = integrator.client.post("/v1/face/compare", data=b"x" * (limit + 1), content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


# --- identify ---------------------------------------------------------------------------------------


def test_identify_finds_the_person_among_the_collections_faces(integrator, enrol, faces):
    enrolled = {enrol(image, external_id=f"user-{i}")[0]: i for i, image in enumerate(faces.people)}
    enrol(faces.astronaut, external_id="astro")
    response = integrator.client.post(
        "/v1/face/identify", {"collectionId": "members", "image": b64(faces.person0_again)}, format="json"
    )
    assert response.status_code == 200, response.content
    match = response.json()["match"]
    assert enrolled[match["faceId"]] == 0
    assert match["externalId"] == "user-0"
    assert match["similarity"] >= response.json()["threshold"]


def test_identify_answers_null_for_a_stranger(integrator, enrol, faces):
    for image in faces.people:
        enrol(image)
    response = integrator.client.post(
        "/v1/face/identify",
        {"collectionId": "members", "image": SimpleUploadedFile("q.jpg", faces.astronaut, "image/jpeg")},
        format="multipart",
    )
    assert response.status_code == 200
    assert response.json()["match"] is None
    assert 0 < response.json()["threshold"] < 1


def test_identify_refuses_a_collection_filled_by_another_model(integrator, enrol, faces):
    from apps.faces.models import FaceCollection

    enrol(faces.astronaut)
    FaceCollection.objects.filter(collection_id="members").update(model_version="insightface-w600k")
    response = integrator.client.post(
        "/v1/face/identify", {"collectionId": "members", "image": b64(faces.astronaut)}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "engine_mismatch"


# --- account isolation and authentication ---------------------------------------------------------


def test_another_accounts_collection_and_faces_answer_404_like_unknown_ones(integrator, other_integrator, enrol, faces):
    face_id, _ = enrol(faces.astronaut)
    other = other_integrator.client
    identify = {"collectionId": "members", "image": b64(faces.astronaut)}
    for response in (
        other.get("/v1/collection/get", {"collectionId": "members"}),
        other.get("/v1/face/get-all", {"collectionId": "members"}),
        other.get("/v1/face/get", {"faceId": face_id}),
        other.delete(f"/v1/face/delete?faceId={face_id}"),
        other.delete("/v1/collection/delete?collectionId=members"),
        other.post("/v1/face/identify", identify, format="json"),
    ):
        assert response.status_code == 404, response.content
        assert response.json()["error"]["code"] == "not_found"
    unknown = integrator.client.get("/v1/face/get", {"faceId": uuid.uuid4().hex})
    assert unknown.status_code == 404 and unknown.json() == other.get("/v1/face/get", {"faceId": face_id}).json()
    # nothing was deleted by the other account
    assert integrator.client.get("/v1/face/get", {"faceId": face_id}).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/v1/collection/get?collectionId=x"),
        ("get", "/v1/collection/get-all"),
        ("delete", "/v1/collection/delete?collectionId=x"),
        ("get", "/v1/face/get-all?collectionId=x"),
        ("get", f"/v1/face/get?faceId={'0' * 32}"),
        ("delete", f"/v1/face/delete?faceId={'0' * 32}"),
        ("post", "/v1/face/compare"),
        ("post", "/v1/face/identify"),
        ("post", "/v1/collection/update"),
        ("get", "/v1/verif/check/get?checkId=x"),
        ("get", "/v1/verif/check/file?checkId=x&file=idPhoto"),
        ("get", "/v1/verif/settings"),
        ("post", "/v1/verif/settings"),
    ],
)
def test_every_face_endpoint_needs_an_api_key(anonymous, method, path):
    response = getattr(anonymous, method)(path)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_compare_with_a_session_recorded_without_face_recognition(integrator, embed, faces):
    from apps.faces.services import session_face_record

    e = embed(faces.people[1])
    session_id = uuid.uuid4()
    session_face_record(
        account=integrator.account,
        session_id=session_id,
        embedding=e.embedding,
        engine=e.engine,
        model_version=e.model_version,
    )
    body = {"image": b64(faces.people[1]), "verificationSessionId": str(session_id)}
    response = integrator.client.post("/v1/face/compare", body, format="json")
    assert response.status_code == 200 and response.json()["isIdentical"] is True
    unknown = {"image": b64(faces.people[1]), "verificationSessionId": str(uuid.uuid4())}
    assert integrator.client.post("/v1/face/compare", unknown, format="json").status_code == 404


def test_session_faces_are_purged_with_the_session_results(integrator, embed, faces):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from apps.faces.models import SessionFace
    from apps.faces.services import session_face_record, session_faces_purge

    e = embed(faces.people[1])
    session_face_record(
        account=integrator.account,
        session_id=uuid.uuid4(),
        embedding=e.embedding,
        engine=e.engine,
        model_version=e.model_version,
    )
    assert session_faces_purge() == 0
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert session_faces_purge() == 1
    assert not SessionFace.objects.exists()


@pytest.mark.parametrize("transport", ["json", "multipart"])
def test_a_session_compare_names_image1_when_the_photo_came_as_image1(integrator, enrol, faces, transport):
    _, session_id = enrol(faces.astronaut)
    if transport == "json":
        body = {"image1": b64(faces.no_face), "verificationSessionId": str(session_id)}
    else:
        upload = SimpleUploadedFile("photo.jpg", faces.no_face, "image/jpeg")
        body = {"image1": upload, "verificationSessionId": str(session_id)}
    response = integrator.client.post("/v1/face/compare", body, format=transport)
    assert_names_the_image(response, "image1", "noFace", "contains no face.")


def test_identify_and_the_face_list_do_not_count_the_collections_faces(integrator, enrol, faces):
    """collection_get counted every face of the collection (145 ms at 300,000 faces) for answers that never
    show the count."""
    enrol(faces.astronaut)
    with CaptureQueriesContext(connection) as identify:
        body = {"collectionId": "members", "image": b64(faces.astronaut_again)}
        assert integrator.client.post("/v1/face/identify", body, format="json").status_code == 200
    assert not [q["sql"] for q in identify.captured_queries if "COUNT(" in q["sql"].upper()]
    with CaptureQueriesContext(connection) as listing:
        assert integrator.client.get("/v1/face/get-all", {"collectionId": "members"}).json()["totalCount"] == 1
    assert len([q for q in listing.captured_queries if "COUNT(" in q["sql"].upper()]) == 1  # totalCount's own
