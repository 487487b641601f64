"""The sessions side of ``apps.users.ports``: what the users app may ask of sessions."""

from __future__ import annotations

import uuid

from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import Account
from apps.users.ports import SessionSummary

from .models import AttemptThumbnail, Session, SessionAttempt
from .retention import ATTEMPT_PERSONAL_FIELDS_CLEARED, PERSONAL_FIELDS_CLEARED
from .services.devices import device_risk_signals
from .services.lifecycle import session_cancel


class SessionsForUsers:
    def summary(self, *, account: Account, session_id: uuid.UUID) -> SessionSummary | None:
        session = Session.objects.filter(id=session_id, account=account).first()
        if session is None:
            return None
        return SessionSummary(passed=session.passed, minor=session.minor, device_id=session.device_id)

    def enrolment_signals(self, *, account: Account, session_id: uuid.UUID, entry_user_id: uuid.UUID) -> list[str]:
        session = Session.objects.get(id=session_id, account=account)
        signals = list(session.risk_signals or [])
        signals.extend(s for s in device_risk_signals(session=session, entry_user_id=entry_user_id) if s not in signals)
        Session.objects.filter(id=session.id).update(risk_signals=signals)
        return signals

    def forget_user(
        self, *, account: Account, entry_user_id: uuid.UUID, session_ids: list[uuid.UUID]
    ) -> list[uuid.UUID]:
        sessions = Session.objects.filter(Q(entry_user_id=entry_user_id) | Q(id__in=session_ids), account=account)
        ids = list(sessions.values_list("id", flat=True))
        # A session still under way is cancelled first: its verdict, landing later, would write the face data
        # (embedding, photo, attempt) back onto a session already cleared, and nothing would clear it again.
        for session_id in sessions.filter(status__in=Session.UNFINISHED).values_list("id", flat=True):
            session_cancel(session_id=session_id)
        Session.objects.filter(id__in=ids).update(**PERSONAL_FIELDS_CLEARED, personal_data_purged_at=timezone.now())
        # Their attempts too: retention skips a session already marked purged, so nothing would clear them later.
        SessionAttempt.objects.filter(session_id__in=ids).update(**ATTEMPT_PERSONAL_FIELDS_CLEARED)
        AttemptThumbnail.objects.filter(attempt__session_id__in=ids).delete()
        return ids
