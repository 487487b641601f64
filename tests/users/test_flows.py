"""Entry flows end to end on real frames: sign-up, passwordless sign-in, recovery, deletion (docs/entry.md)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from apps.faces.enrolment import USERS_COLLECTION_ID
from apps.faces.models import Face, FaceCollection, SessionFace
from apps.faces.services import _face_insert
from apps.sessions.models import Session
from apps.sessions.result_redirect import result_redirect_url
from apps.users.models import EntryUser
from apps.webhooks.models import WebhookEvent

from .entry_helpers import create_session, finish, sign_up

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

IDENTIFY = {"faceRecognition": {"type": "Identify"}}


def test_sign_up_then_sign_in_by_face_then_recovery_then_deletion(integrator):
    integrator.account.allowed_redirect_origins = ["https://rp.example"]
    integrator.account.save()
    client = integrator.client
    user = sign_up(client, "alice", "astronaut", dateOfBirth="1990-05-01", photoIdentityDocumentNumber="X1234567")
    assert user["isRegistrationComplete"] is True
    assert set(user) >= {"entryUserId", "isRegistrationComplete", "deviceId"}
    alice = user["entryUserId"]

    # Sign-in on a "second device": another capture of the same person, no externalId given.
    sign_in = create_session(
        client,
        IDENTIFY,
        redirectConfig={"passedUrl": "https://rp.example/ok", "failedUrl": "https://rp.example/no"},
        resultParameterConfig={"includeSignature": True, "includeVerificationResult": True},
    )
    result = finish(client, sign_in, "astronaut", seed=1)
    assert result["verificationResult"] == "Pass" and result["faceRecognitionResult"] == "Pass"
    assert result["user"]["entryUserId"] == alice
    assert result["user"]["isRegistrationComplete"] is True
    assert 0.5 <= result["user"]["similarity"] <= 1.0
    # The signed redirect names the user.
    redirect = urlsplit(result_redirect_url(session=Session.objects.get(id=sign_in)))
    query = parse_qs(redirect.query)
    assert query["reEntryUserId"] == [alice] and "reSignature" in query
    checked = client.post("/v1/signature/validate", {"queryString": redirect.query}, format="json")
    assert checked.status_code == 200 and checked.json()["result"] == "Valid"

    # Someone else is nobody.
    stranger = finish(client, create_session(client, IDENTIFY), "t1_3")
    assert stranger["verificationResult"] == "Fail"
    assert stranger["user"] is None
    assert "userNotFound" in stranger["verificationFailedReasons"]

    # Recovery: bound to alice; her face passes, someone else's does not.
    recovery = {"faceRecognition": {"type": "Recovery"}, "age": {"type": "CalculationOnly"}}
    ok = finish(client, create_session(client, recovery, entryUserId=alice), "astronaut", seed=1)
    assert ok["verificationResult"] == "Pass", ok["verificationFailedReasons"]
    impostor = finish(client, create_session(client, recovery, entryUserId=alice), "t1_3")
    assert impostor["verificationResult"] == "Fail"
    assert "userFaceMismatch" in impostor["verificationFailedReasons"]

    # Deletion: user, face, and the personal fields of every session that named her.
    deleted = client.delete(f"/v1/user/delete?entryUserId={alice}")
    assert deleted.status_code == 200, deleted.content
    assert deleted.json()["deletedFaceCount"] == 1 and deleted.json()["clearedSessionCount"] >= 3
    assert not EntryUser.objects.filter(id=alice).exists()
    assert not Face.objects.filter(collection__collection_id=USERS_COLLECTION_ID).exists()
    assert not Session.objects.filter(entry_user_id=alice).exists()
    cleared = Session.objects.get(id=sign_in)
    assert cleared.personal_data_purged_at is not None and cleared.estimated_age is None
    assert not SessionFace.objects.filter(session_id=sign_in).exists()
    assert client.get(f"/v1/user/get?entryUserId={alice}").status_code == 404
    # After deletion the same face signs in as nobody.
    after = finish(client, create_session(client, IDENTIFY), "astronaut", seed=1)
    assert after["verificationResult"] == "Fail" and after["user"] is None


def test_the_webhook_of_a_sign_in_carries_the_user(integrator):
    client = integrator.client
    alice = sign_up(client, "alice", "astronaut")["entryUserId"]
    session_id = create_session(client, IDENTIFY, webhookConfig={"eventCallbackUrl": "https://hooks.example.com/entry"})
    finish(client, session_id, "astronaut", seed=1)
    event = WebhookEvent.objects.get(account=integrator.account, session_id=session_id)
    assert '"entryUserId"' in event.body and alice in event.body


def test_a_face_that_matches_two_users_is_refused_not_guessed(integrator):
    client = integrator.client
    alice = sign_up(client, "alice", "astronaut")
    # A second user holding the same face (e.g. enrolled before a policy change): identify cannot choose.
    bob = EntryUser.objects.create(account=integrator.account, external_id="bob")
    alice_face = Face.objects.get(face_id=EntryUser.objects.get(id=alice["entryUserId"]).face.face_id)
    collection = FaceCollection.objects.get(account=integrator.account, collection_id=USERS_COLLECTION_ID)
    import numpy as np

    copy = np.frombuffer(bytes(alice_face.embedding), dtype="<f4").copy()
    bob.face = _face_insert(collection=collection, embedding=copy, external_id=str(bob.id), session_id=None)
    bob.save()

    result = finish(client, create_session(client, IDENTIFY), "astronaut", seed=1)
    assert result["verificationResult"] == "Fail"
    assert "ambiguousUser" in result["verificationFailedReasons"]
    assert result["user"] is None


def test_enrolling_a_face_that_is_already_another_users_is_refused(integrator):
    client = integrator.client
    sign_up(client, "alice", "astronaut")
    bob = client.post("/v1/user/create", {"externalId": "bob"}, format="json").json()["user"]
    session_id = create_session(client, {})
    finish(client, session_id, "astronaut", seed=1)
    refused = client.post(
        "/v1/user/enroll", {"entryUserId": bob["entryUserId"], "verificationSessionId": session_id}, format="json"
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "face_registered_to_other_user"


def test_a_stored_date_of_birth_decides_the_age_check_and_a_mismatch_is_a_risk_signal(integrator):
    client = integrator.client
    # The astronaut's face is estimated in her thirties; the stored date of birth says 16.
    user = sign_up(client, "teen", "astronaut", dateOfBirth=_born_years_ago(16))
    age18 = {"age": {"type": "ThresholdVerification", "preset": "Over18"}}
    result = finish(client, create_session(client, age18, entryUserId=user["entryUserId"]), "astronaut", seed=1)
    assert result["ageVerificationResult"] == "Fail"
    assert "dateOfBirthMismatch" in result["riskSignals"]
    # Recovery with that date of birth: the face matches, the age does not agree.
    recovery = {"faceRecognition": {"type": "Recovery"}}
    rec = finish(client, create_session(client, recovery, entryUserId=user["entryUserId"]), "astronaut", seed=1)
    assert rec["verificationResult"] == "Fail"
    assert "dateOfBirthMismatch" in rec["verificationFailedReasons"]


def test_an_estimate_within_the_margin_asks_for_a_document_and_never_passes(integrator):
    client = integrator.client
    # Estimated 36.5 on the mesh (31.4 with dlib's 68 points; the age net moves by years with its face chip's
    # alignment): threshold 34 is within the default 5-year margin of either.
    near = finish(
        client, create_session(client, {"age": {"type": "ThresholdVerification", "threshold": 34}}), "astronaut"
    )
    assert near["verificationResult"] == "Fail" and near["ageVerificationResult"] == "Fail"
    assert "ageDocumentRequired" in near["verificationFailedReasons"]
    clear = finish(
        client, create_session(client, {"age": {"type": "ThresholdVerification", "preset": "Over25"}}), "astronaut"
    )
    assert clear["verificationResult"] == "Pass"
    assert clear["thresholds"]["age"] == 25 and clear["thresholds"]["ageMargin"] == 5.0
    # With margin 0 the same estimate against 30 passes.
    zero = {"age": {"type": "ThresholdVerification", "threshold": 30, "margin": 0}}
    assert finish(client, create_session(client, zero), "astronaut")["verificationResult"] == "Pass"


def test_a_minor_by_date_of_birth_keeps_no_face_data(integrator):
    client = integrator.client
    user = client.post("/v1/user/create", {"externalId": "kid", "dateOfBirth": _born_years_ago(10)}, format="json")
    kid = user.json()["user"]["entryUserId"]
    session_id = create_session(client, {"age": {"type": "CalculationOnly"}}, entryUserId=kid)
    result = finish(client, session_id, "astronaut")
    assert result["minor"] is True
    assert result["icaoPhotoAvailable"] is False
    assert not SessionFace.objects.filter(session_id=session_id).exists()
    refused = client.post("/v1/user/enroll", {"entryUserId": kid, "verificationSessionId": session_id}, format="json")
    assert refused.status_code == 409


def _born_years_ago(years: int) -> str:
    from datetime import date

    today = date.today()
    return (
        date(today.year - years, 1, 1).isoformat()
        if today.month > 1
        else date(today.year - years - 1, 1, 1).isoformat()
    )
