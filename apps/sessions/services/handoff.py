"""Cross-device continuation: a short code (and its QR code) that opens a session's hosted page on a phone.

The first device (a laptop without a camera) asks for a code; the person types it at
``/go/`` on their phone, or scans the QR code that leads there. A code is 8 characters
of an alphabet without look-alikes (31 signs, about 40 bits), lives SESSION_HANDOFF_TTL_SECONDS, opens
the session once, and only its HMAC is stored. Asking again replaces the session's live
code; both asking and trying are rate-limited. The first device follows the session on
its status poll and gets the result there.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import segno
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.errors import ApplicationError
from apps.core.keys import derive_key
from apps.core.ratelimits import rate_limit_count

from ..models import Session, SessionHandoff

# No 0/O, 1/I/L: a code read off one screen and typed on another.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
ENTRY_PATH = "/go/"


@dataclass(frozen=True)
class Handoff:
    code: str  # as shown: ABCD-EFGH
    entry_url: str  # where to type it
    url: str  # what the QR code holds: the entry page with the code filled in
    qr_svg_data_uri: str
    expires_at: datetime


def handoff_code_normalise(raw: object) -> str | None:
    """A typed code as stored (upper case, no spaces or dashes), or None when it cannot be one."""
    if not isinstance(raw, str) or len(raw) > 32:
        return None
    code = "".join(raw.split()).replace("-", "").upper()
    return code if len(code) == CODE_LENGTH and all(c in CODE_ALPHABET for c in code) else None


def _code_hash(code: str) -> str:
    return hmac.new(derive_key("session-handoff"), code.encode(), hashlib.sha256).hexdigest()


def _shown(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def session_handoff_create(*, session: Session) -> Handoff:
    """A fresh code for an unfinished session (the earlier live one stops working); 409 when it is finished.

    Raises RateLimitExceeded past SESSION_HANDOFF_CODES_PER_SESSION.
    """
    if session.is_finished or session.expires_at <= timezone.now():
        raise ApplicationError("This session is finished.", code="session_finished", status=409)
    rate_limit_count(
        group="session-handoff-codes", rate=str(settings.SESSION_HANDOFF_CODES_PER_SESSION), key=str(session.id)
    )
    now = timezone.now()
    expires_at = min(now + timedelta(seconds=int(settings.SESSION_HANDOFF_TTL_SECONDS)), session.expires_at)
    with transaction.atomic():
        SessionHandoff.objects.filter(session=session, used_at__isnull=True, expires_at__gt=now).update(expires_at=now)
        code = _handoff_insert(session=session, expires_at=expires_at)
    entry_url = f"{settings.PUBLIC_BASE_URL}{ENTRY_PATH}"
    url = f"{entry_url}?code={code}"
    qr = segno.make(url, error="m", micro=False)
    return Handoff(
        code=_shown(code),
        entry_url=entry_url,
        url=url,
        qr_svg_data_uri=qr.svg_data_uri(scale=4, border=4, dark="#111111"),
        expires_at=expires_at,
    )


def _handoff_insert(*, session: Session, expires_at: datetime) -> str:
    for _ in range(5):  # a clash of two live 40-bit codes is improbable; a second draw settles it
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        try:
            with transaction.atomic():
                SessionHandoff.objects.create(session=session, code_hash=_code_hash(code), expires_at=expires_at)
        except IntegrityError:
            continue
        return code
    raise ApplicationError("No code could be made; try again.", code="unavailable", status=503)


def session_handoff_redeem(*, code: object) -> Session | None:
    """The unfinished session the code opens, spending the code; None for a wrong, used or expired code."""
    normalised = handoff_code_normalise(code)
    if normalised is None:
        return None
    now = timezone.now()
    with transaction.atomic():
        handoff = (
            SessionHandoff.objects.select_for_update()
            .filter(code_hash=_code_hash(normalised), used_at__isnull=True, expires_at__gt=now)
            .select_related("session")
            .first()
        )
        if handoff is None:
            return None
        SessionHandoff.objects.filter(pk=handoff.pk).update(used_at=now)
    session = handoff.session
    if session.is_finished or session.expires_at <= now:
        return None
    return session
