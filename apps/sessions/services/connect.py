"""Socket authentication: a browser spends its single-use session token to attach to a session."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..models import Session, UsedSessionToken
from ..protocol import CloseCode
from ..tokens import SessionTokenError, session_token_decode, session_token_issue
from .create import capture_attempt_reset
from .devices import DeviceSeen, session_device_record
from .lifecycle import session_expire_if_due


class ConnectRefusedError(Exception):
    """Why a socket may not attach to a session; ``close_code`` is the documented WebSocket close code."""

    def __init__(self, code: str, message: str, close_code: CloseCode) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.close_code = close_code


def session_connect(*, session_id: str, token: str, seen: DeviceSeen | None = None) -> tuple[Session, str]:
    """Spend ``token`` on ``session_id``, note the client ``seen`` and start (or restart) its current attempt.

    Returns the session and a fresh single-use resume token for reconnecting.
    Raises ConnectRefusedError (bad/expired token, another session's token, unknown
    or finished session, token already used).
    """
    try:
        claims = session_token_decode(token=token)
    except SessionTokenError as exc:
        raise ConnectRefusedError(exc.code, str(exc), CloseCode.UNAUTHENTICATED) from exc
    if claims.session_id != str(session_id):
        raise ConnectRefusedError("wrongSession", "This token belongs to another session.", CloseCode.WRONG_SESSION)
    session = Session.objects.filter(id=session_id).first()
    if session is None:
        raise ConnectRefusedError("unknownSession", "This session does not exist.", CloseCode.UNKNOWN_SESSION)
    if session_expire_if_due(session_id=session.id):
        session.refresh_from_db()
    try:
        with transaction.atomic():
            UsedSessionToken.objects.create(jti=claims.jti, session=session)
    except IntegrityError as exc:
        raise ConnectRefusedError("tokenUsed", "This session token was already used.", CloseCode.TOKEN_USED) from exc
    resume = session_token_issue(session_id=session.id)
    if seen is not None:
        session_device_record(session_id=session.id, seen=seen)
    if session.is_finished:
        return session, resume
    if session.status == Session.Status.CREATED:
        now = timezone.now()
        Session.objects.filter(id=session.id, status=Session.Status.CREATED).update(
            status=Session.Status.IN_PROGRESS, attempt=1, started_at=now
        )
        session.refresh_from_db()
    if session.status == Session.Status.IN_PROGRESS and session.verdict != "retry":
        # A (re)connecting browser restarts the current attempt cleanly; it costs no attempt.
        capture_attempt_reset(session=session, keep_completed=True)
    return session, resume
