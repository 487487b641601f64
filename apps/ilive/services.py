"""The iLive (002) operations as calls into the sessions app: nothing here runs a session itself.

A managed or direct iLive session *is* a Liveproof session: ``mode`` picks the liveness challenge type
(active: Advanced, four random challenges, inside 002's 3-6; passive: no challenges), ``redirect_url``
becomes the redirect target of both outcomes with ``session_id`` appended, ``webhook_url`` the session's
webhook, which receives 002's result (``ilive_result_payload``, what the result endpoint answers). The
result is read from the same row get-session-result reads.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any, Literal

from django.conf import settings
from django.utils import timezone

from apps.accounts.models import Account
from apps.accounts.services import account_get_or_create
from apps.core.errors import ApplicationError
from apps.sessions.models import Session
from apps.sessions.pages import DIRECT_ACCOUNT
from apps.sessions.services.create import session_create
from apps.verifications.enums import ChallengeType, LivenessType

from .tokens import ilive_token_check, ilive_token_issue

Mode = Literal["active", "passive"]
# The sessions' webhook_format of iLive sessions: their webhook_url gets 002's result (apps.py registers it).
WEBHOOK_FORMAT = "ilive"
Verdict = Literal["pass", "fail", "retry"]

_CHALLENGE_TYPES: dict[str, ChallengeType] = {"active": ChallengeType.ADVANCED, "passive": ChallengeType.PASSIVE}
# Our field names in errors, spelled as the iLive request spells them.
_FIELD_NAMES = {
    "redirectConfig.passedUrl": "redirect_url",
    "redirectConfig.failedUrl": "redirect_url",
    "webhookConfig.eventCallbackUrl": "webhook_url",
}


def _renamed(exc: ApplicationError) -> ApplicationError:
    fields: dict[str, list[str]] = {}
    for name, messages in exc.fields.items():
        target = fields.setdefault(_FIELD_NAMES.get(name, name), [])
        target += [message for message in messages if message not in target]
    return ApplicationError(exc.message, code=exc.code, status=exc.status, fields=fields, headers=exc.headers)


def ilive_session_create(
    *, account: Account, mode: Mode, redirect_url: str | None = None, webhook_url: str | None = None
) -> Session:
    """A session of ``account`` in iLive terms. Redirect origins follow the account's allowed origins."""
    session_id = uuid.uuid4()
    body: dict[str, Any] = {
        "name": f"ilive:{mode}",
        "verifierConfigs": {
            "liveness": {"type": LivenessType.VERIFICATION.value, "challengeType": _CHALLENGE_TYPES[mode].value}
        },
    }
    if redirect_url:
        # 002: "redirects the user to your redirect_url with the session ID as a query parameter".
        body["redirectConfig"] = {"passedUrl": redirect_url, "failedUrl": redirect_url}
        body["resultParameterConfig"] = {"includeCustomInputParameters": True}
        body["customInputParameters"] = {"session_id": str(session_id)}
    if webhook_url:
        body["webhookConfig"] = {"eventCallbackUrl": webhook_url}
    try:
        return session_create(account=account, body=body, session_id=session_id, webhook_format=WEBHOOK_FORMAT)
    except ApplicationError as exc:
        raise _renamed(exc) from None


def ilive_direct_session_create(*, mode: Mode) -> Session:
    """A direct session (002: no API key), owned by the "Direct sessions" account like the /direct/ page's."""
    return ilive_session_create(account=account_get_or_create(name=DIRECT_ACCOUNT), mode=mode)


def ilive_session_created_payload(*, session: Session, direct: bool = False) -> dict[str, Any]:
    """What both create calls answer: the id, the page, the token and where the socket is."""
    base = str(settings.PUBLIC_BASE_URL)
    socket_base = base.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
    token = ilive_token_issue(session_id=session.id)
    return {
        "session_id": str(session.id),
        "session_url": session.session_url,
        "token": token,
        "mode": session.mode,
        "ws_url": f"{socket_base}/api/v1/session/{session.id}/ws?token={token}",
        "expires_at": _iso(session.expires_at),
        "direct": direct,
    }


def ilive_session_get(*, session_id: uuid.UUID | str, token: str) -> Session:
    """The session the token opens, within the result retention window; 404 "Session not found" otherwise.

    A wrong token answers like an unknown session, so a token cannot be used to probe for ids.
    """
    oldest = timezone.now() - timedelta(days=int(settings.SESSION_RESULT_RETENTION_DAYS))
    session = None
    if ilive_token_check(session_id=session_id, token=token):
        session = Session.objects.filter(id=session_id, created_at__gte=oldest).first()
    if session is None:
        raise ApplicationError("Session not found", code="not_found", status=404)
    return session


def _iso(moment: Any) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def ilive_verdict(*, session: Session) -> Verdict | None:
    """002's verdict: pass, fail, or retry (inconclusive, another attempt is open); None while unfinished."""
    if session.status == Session.Status.IN_PROGRESS and session.verdict == "retry":
        return "retry"
    if session.status in Session.UNFINISHED:
        return None
    return "pass" if session.passed else "fail"


def ilive_result_payload(*, session: Session) -> dict[str, Any]:
    """The result 002's ``GET /api/v1/session/{id}/result`` answers, in snake_case."""
    verdict = ilive_verdict(session=session)
    return {
        "session_id": str(session.id),
        "status": session.status,
        "verdict": verdict,
        "confidence": session.confidence if verdict is not None else None,
        "mode": session.mode,
        "reasons": list(session.verification_failed_reasons or []),
        "challenges": dict(session.challenge_outcomes or {}),
        "scores": dict(session.scores or {}),
        "attempt": session.attempt,
        "max_attempts": session.max_attempts,
        "photo_available": bool(verdict == "pass" and session.icao_jpeg),
        "created_at": _iso(session.created_at),
        "completed_at": _iso(session.completed_at),
    }
