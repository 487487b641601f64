"""Personal data of every kind the service stores, seeded past its retention window, and the check that it went.

Used in-process (the test database: PostgreSQL in CI) and by ``manage.py shell`` against
the SQLite file of a daphne started on the embedded default, so the same rows and files
are proven gone on both deployment modes.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from axes.models import AccessLog
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from apps.accounts.models import Account
from apps.faces.models import Face, FaceCollection, SelfieCheck, SessionFace
from apps.faces.session_faces import SESSIONS_COLLECTION_ID
from apps.sessions.models import AttemptThumbnail, Session, SessionAttempt, UsedSessionToken
from apps.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

# Older than every window: SESSION_RETENTION_DAYS and WEBHOOK_RETENTION_DAYS (30), the 7-day ones.
AGE = timedelta(days=31)
PERSONAL = {
    "name": "Jane Roe onboarding",
    "external_id": "customer-4711",
    "custom_input_parameters": {"email": "jane.roe@example.com"},
    "estimated_age": 34.5,
    "estimated_gender": "Female",
    "face_id": "f" * 32,
    "confidence": 0.93,
    "scores": {"liveness": 0.91, "planar": 0.88},
    "challenge_outcomes": {"blink": True},
    "icao_jpeg": b"\xff\xd8\xff\xe0 icao photo",
    "icao_checks": {"eyesOpen": True},
    "entry_user_id": uuid.UUID("0d3f6b1e-4c1a-4c55-9a51-0f1f3b9b2c11"),
    "user_similarity": 0.81,
    "device_id": "d" * 64,
    "client_address": "203.0.113.7",
    "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)",
}
AGGREGATE = {
    "status": Session.Status.COMPLETED,
    "verdict": "pass",
    "verification_result": "Pass",
    "liveness_result": "Pass",
    "age_result": "Pass",
    "gender_result": "Pass",
    "face_recognition_result": "Pass",
    "total_face_count": 1,
    "engine": "dlib",
    "config": {"verifierConfigs": {"liveness": {"type": "Verification", "challengeType": "Passive"}}},
}


def _session(account: Account) -> Session:
    now = timezone.now()
    return Session.objects.create(
        account=account, expires_at=now, started_at=now, completed_at=now, **AGGREGATE, **PERSONAL
    )


# What a kept attempt shows of the person (apps/sessions/services/attempts.py).
ATTEMPT_PERSONAL = {
    "confidence": 0.88,
    "scores": {"liveness": 0.91},
    "challenge_outcomes": {"blink": True},
    "timeline": {"series": {"t": [0.0, 0.1], "eye_open": [0.3, 0.1]}, "frames": [[0.0, 1, ["ok"], "blink"]]},
}


def _attempt(session: Session) -> SessionAttempt:
    attempt = SessionAttempt.objects.create(
        session=session, number=1, outcome="pass", reasons=[], ended_at=timezone.now(), **ATTEMPT_PERSONAL
    )
    AttemptThumbnail.objects.create(attempt=attempt, t=0.5, kind="best", jpeg=b"\xff\xd8\xff\xe0 thumbnail")
    return attempt


def _selfie_check(account: Account) -> SelfieCheck:
    check_id = uuid.uuid4()
    selfie = default_storage.save(f"verif/{check_id}/selfie.mp4", ContentFile(b"\x00\x00\x00\x18ftypmp42 video"))
    photo = default_storage.save(f"verif/{check_id}/id.jpg", ContentFile(b"\xff\xd8\xff\xe0 id photo"))
    result = {
        "sessionId": str(check_id),
        "timestamp": "2026-01-01T00:00:00Z",
        "status": "verified",
        "faceComparison": {"isIdentical": True, "confidence": 0.81, "similarityScore": 81},
        "liveness": {"result": "Pass", "confidence": 0.9, "reasons": []},
        "verificationAssessment": {"overallScore": 86, "verificationStatus": "verified"},
    }
    return SelfieCheck.objects.create(
        id=check_id,
        account=account,
        user_identifier="jane-roe",
        user_email="jane.roe@example.com",
        user_phone="+44 20 7946 0000",
        status="verified",
        result=result,
        selfie_path=selfie,
        selfie_name="selfie.mp4",
        id_photo_path=photo,
        id_photo_name="id.jpg",
    )


def _webhook_event(account: Account, session: Session) -> WebhookEvent:
    body = json.dumps({"type": "verification.session.completed", "data": {"externalId": PERSONAL["external_id"]}})
    event = WebhookEvent.objects.create(
        account=account, type="verification.session.completed", session_id=session.id, body=body
    )
    endpoint, _ = WebhookEndpoint.objects.get_or_create(account=account, url="https://hooks.example.com/liveproof")
    delivery = WebhookDelivery.objects.create(event=event, endpoint=endpoint, status=WebhookDelivery.Status.DELIVERED)
    WebhookAttempt.objects.create(
        delivery=delivery, number=1, started_at=timezone.now(), status_code=200, response_excerpt="ok customer-4711"
    )
    return event


def seed(*, account_name: str = "Retention Ltd") -> dict[str, Any]:
    """Rows and files past every retention window, plus one fresh session that must keep its fields."""
    account = Account.objects.create(name=account_name)
    old, young = _session(account), _session(account)
    UsedSessionToken.objects.create(jti=uuid.uuid4().hex, session=old)
    _attempt(old), _attempt(young)
    SessionFace.objects.create(account=account, session_id=old.id, embedding=b"\x01" * 512, engine="dlib")
    # The person's face in the account's reserved session collection (their faceId across sessions).
    collection = FaceCollection.objects.create(
        account=account, collection_id=SESSIONS_COLLECTION_ID, engine="dlib", model_version="v", dimension=128
    )
    session_person = Face.objects.create(collection=collection, embedding=b"\x01" * 512)
    check = _selfie_check(account)
    event = _webhook_event(account, old)
    login = AccessLog.objects.create(username="admin", ip_address="203.0.113.7", user_agent="Firefox")
    past = timezone.now() - AGE
    AccessLog.objects.filter(id=login.id).update(attempt_time=past)
    Session.objects.filter(id=old.id).update(created_at=past, completed_at=past, expires_at=past)
    # An attempt's thumbnails are written when it ends, within its session's life (services/attempts.py).
    SessionAttempt.objects.filter(session_id=old.id).update(ended_at=past)
    AttemptThumbnail.objects.filter(attempt__session_id=old.id).update(created_at=past)
    SessionFace.objects.filter(session_id=old.id).update(created_at=past)
    Face.objects.filter(pk=session_person.pk).update(last_seen_at=past)
    SelfieCheck.objects.filter(id=check.id).update(created_at=past)
    WebhookEvent.objects.filter(id=event.id).update(created_at=past)
    return {
        "old": str(old.id),
        "young": str(young.id),
        "check": str(check.id),
        "event": event.id,
        "login": login.id,
        "session_person": session_person.pk,
        "files": [check.selfie_path, check.id_photo_path],
    }


def problems(seeded: dict[str, Any]) -> list[str]:
    """What is still stored that should be gone (or gone that should stay); empty when retention held."""
    found: list[str] = []
    old = Session.objects.get(id=seeded["old"])
    found += [f"session.{name} kept" for name, value in PERSONAL.items() if _stored(getattr(old, name))]
    found += [f"session.{name} lost" for name, value in AGGREGATE.items() if getattr(old, name) != value]
    if old.personal_data_purged_at is None or old.completed_at is None:
        found.append("session purge time or completion time missing")
    if UsedSessionToken.objects.filter(session_id=old.id).exists():
        found.append("used session token kept")
    if SessionFace.objects.filter(session_id=old.id).exists():
        found.append("session face embedding kept")
    if Face.objects.filter(pk=seeded["session_person"]).exists():
        found.append("face of the session collection kept")
    for attempt in SessionAttempt.objects.filter(session_id=old.id):
        found += [f"attempt.{name} kept" for name in ATTEMPT_PERSONAL if _stored(getattr(attempt, name))]
        if attempt.outcome != "pass":
            found.append("attempt outcome lost")
    if not SessionAttempt.objects.filter(session_id=old.id).exists():
        found.append("attempt row lost")
    if AttemptThumbnail.objects.filter(attempt__session_id=old.id).exists():
        found.append("attempt thumbnail kept")
    young = Session.objects.get(id=seeded["young"])
    fresh = SessionAttempt.objects.get(session_id=young.id)
    found += [f"fresh attempt.{name} lost" for name, v in ATTEMPT_PERSONAL.items() if getattr(fresh, name) != v]
    if not AttemptThumbnail.objects.filter(attempt=fresh).exists():
        found.append("fresh attempt thumbnail lost")
    found += [f"fresh session.{name} lost" for name, value in PERSONAL.items() if getattr(young, name) != value]
    check = SelfieCheck.objects.get(id=seeded["check"])
    for name in ("user_identifier", "user_email", "user_phone", "selfie_path", "id_photo_path"):
        if getattr(check, name):
            found.append(f"selfie check {name} kept")
    if set(check.result) - {"sessionId", "timestamp", "status"}:
        found.append(f"selfie check scores kept: {sorted(check.result)}")
    if check.status != "verified":
        found.append("selfie check status lost")
    found += [f"file {path} kept" for path in seeded["files"] if (Path(settings.MEDIA_ROOT) / path).exists()]
    if (
        WebhookEvent.objects.filter(id=seeded["event"]).exists()
        or WebhookAttempt.objects.filter(delivery__event_id=seeded["event"]).exists()
    ):
        found.append("webhook event (payload with externalId) kept")
    if AccessLog.objects.filter(id=seeded["login"]).exists():
        found.append("admin login log (address, user agent) kept")
    return found


def _stored(value: Any) -> bool:
    return value not in (None, "", {}, [], b"")
