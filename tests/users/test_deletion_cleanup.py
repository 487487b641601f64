"""Deleting an entry user (API or admin) clears everything their sessions showed of them, attempts included."""

from __future__ import annotations

import pytest

from apps.audit.models import AuditEvent
from apps.sessions.models import AttemptThumbnail, Session, SessionAttempt
from apps.sessions.retention import ATTEMPT_PERSONAL_FIELDS_CLEARED, PERSONAL_FIELDS_CLEARED
from apps.sessions.services import session_verdict_record
from apps.users.models import EntryUser
from tests.core.retention_data import _attempt, _session
from tests.sessions.conftest import make_session

pytestmark = pytest.mark.django_db


def _user_with_a_session(account) -> tuple[EntryUser, Session, SessionAttempt]:
    user = EntryUser.objects.create(account=account, external_id="alice")
    session = _session(account)
    Session.objects.filter(id=session.id).update(entry_user_id=user.id, personal_data_purged_at=None)
    return user, session, _attempt(session)


def _cleared(attempt: SessionAttempt) -> bool:
    attempt.refresh_from_db()
    kept = {name: getattr(attempt, name) for name in ATTEMPT_PERSONAL_FIELDS_CLEARED}
    return kept == ATTEMPT_PERSONAL_FIELDS_CLEARED and not AttemptThumbnail.objects.filter(attempt=attempt).exists()


def test_the_api_deletion_clears_the_attempts_of_the_users_sessions(integrator):
    """Retention skips a session already marked purged: the deletion is the only chance to clear them."""
    user, session, attempt = _user_with_a_session(integrator.account)
    response = integrator.client.delete(f"/v1/user/delete?entryUserId={user.id}")
    assert response.status_code == 200, response.content
    assert Session.objects.get(id=session.id).personal_data_purged_at is not None
    assert _cleared(attempt)


@pytest.mark.parametrize("how", ["delete view", "delete_selected action"])
def test_a_user_deleted_in_the_admin_goes_through_the_same_deletion(admin_client, integrator, how):
    user, session, attempt = _user_with_a_session(integrator.account)
    if how == "delete view":
        response = admin_client.post(f"/admin/users/entryuser/{user.id}/delete/", {"post": "yes"})
    else:
        data = {"action": "delete_selected", "_selected_action": [str(user.id)], "post": "yes"}
        response = admin_client.post("/admin/users/entryuser/", data)
    assert response.status_code == 302
    assert not EntryUser.objects.filter(id=user.id).exists()
    assert Session.objects.get(id=session.id).personal_data_purged_at is not None
    assert _cleared(attempt)
    assert AuditEvent.objects.filter(type="user.deleted", subject_id=str(user.id)).exists()


def test_a_session_under_way_when_its_user_is_deleted_is_cancelled_and_its_verdict_writes_nothing(integrator):
    """The verdict of a capture being analysed lands after the deletion cleared the session: it used to write the
    embedding, the photo and an attempt back onto it, and retention skips a session already marked purged."""
    from tests.sessions.test_lifecycle import _verdict

    user = EntryUser.objects.create(account=integrator.account, external_id="bob")
    session = make_session(integrator.account)
    Session.objects.filter(id=session.id).update(entry_user_id=user.id, status="analysing", attempt=1)
    session.refresh_from_db()
    response = integrator.client.delete(f"/v1/user/delete?entryUserId={user.id}")
    assert response.status_code == 200, response.content
    assert session_verdict_record(session=session, verdict=_verdict()) is False
    session.refresh_from_db()
    assert session.status == "cancelled" and session.personal_data_purged_at is not None
    assert {name: getattr(session, name) for name in PERSONAL_FIELDS_CLEARED} == PERSONAL_FIELDS_CLEARED
    assert not SessionAttempt.objects.filter(session=session).exclude(**ATTEMPT_PERSONAL_FIELDS_CLEARED).exists()
    assert not AttemptThumbnail.objects.filter(attempt__session=session).exists()


def test_the_session_console_deletes_nothing(admin_client, integrator):
    session = _session(integrator.account)
    response = admin_client.post(f"/admin/capture/session/{session.id}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert Session.objects.filter(id=session.id).exists()


@pytest.mark.slow
def test_deleting_a_user_who_enrolled_again_clears_every_session_they_enrolled_from(integrator):
    from apps.faces.models import SessionFace
    from tests.users.entry_helpers import create_session, finish

    client = integrator.client
    user = client.post("/v1/user/create", {"externalId": "alice"}, format="json").json()["user"]["entryUserId"]
    enrolments = []
    for seed in (0, 1):
        session_id = create_session(client, {"age": {"type": "CalculationOnly"}, "gender": {"type": "CalculationOnly"}})
        assert finish(client, session_id, "astronaut", seed)["verificationResult"] == "Pass"
        body = {"entryUserId": user, "verificationSessionId": session_id}
        assert client.post("/v1/user/enroll", body, format="json").status_code == 200
        enrolments.append(session_id)
    first = Session.objects.get(id=enrolments[0])
    assert first.estimated_age is not None and first.icao_jpeg and first.face_id

    response = client.delete(f"/v1/user/delete?entryUserId={user}")
    assert response.status_code == 200, response.content
    assert response.json()["clearedSessionCount"] == 2
    for session_id in enrolments:
        session = Session.objects.get(id=session_id)
        kept = {name: getattr(session, name) for name in PERSONAL_FIELDS_CLEARED}
        assert kept == PERSONAL_FIELDS_CLEARED and session.personal_data_purged_at is not None
        assert not SessionFace.objects.filter(session_id=session_id).exists()
