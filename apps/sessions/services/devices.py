"""Devices (003, Entry): which browser or SDK ran a session, and the risk signals that follow for its user.

A device id comes from the SDK (the socket's ``auth`` message, ``deviceId``) or from the
first-party cookie the hosted page sets; only its HMAC (a key derived from SECRET_KEY for
this purpose) is stored. The address is the connection's (REMOTE_ADDR, or the socket's
client: ``python -m config.serve --proxy-headers`` puts the real client there behind a
proxy); the user agent is cut to the column's length. No GeoIP database ships, so the
address signal is a change of address only, never a distance.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from apps.core.addresses import address_clean
from apps.core.keys import derive_key
from apps.core.ratelimits import address_key
from apps.users.models import EntryUser
from apps.verifications.enums import VerifierResult

from ..models import Session

DEVICE_COOKIE = "liveproof_device"
DEVICE_COOKIE_MAX_AGE = 400 * 24 * 3600  # the longest a browser keeps a cookie (RFC 6265bis)
# What a device id may look like, from the cookie or the SDK: 16..128 URL-safe characters.
DEVICE_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
USER_AGENT_MAX_LENGTH = Session._meta.get_field("user_agent").max_length or 500

NEW_DEVICE = "newDevice"
ADDRESS_CHANGE = "addressChange"


@dataclass(frozen=True)
class DeviceSeen:
    """What one opening of the page or the socket tells about the client (``device_id``: the raw id)."""

    device_id: str | None
    address: str | None
    user_agent: str


def device_id_valid(raw: Any) -> str | None:
    """``raw`` when it is a well-formed device id, else None."""
    return raw if isinstance(raw, str) and DEVICE_ID_PATTERN.match(raw) else None


def device_id_new() -> str:
    return secrets.token_urlsafe(32)


def device_hash(raw: str) -> str:
    """The stored form of a device id: HMAC-SHA256, hex (64 characters)."""
    return hmac.new(derive_key("device-id"), raw.encode(), hashlib.sha256).hexdigest()


def _cookie(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name.lower() != b"cookie":
            continue
        for part in value.decode("latin-1").split(";"):
            key, _, cookie = part.strip().partition("=")
            if key == DEVICE_COOKIE:
                return device_id_valid(cookie)
    return None


def device_seen_from_scope(scope: Mapping[str, Any], *, sdk_device_id: Any = None) -> DeviceSeen:
    """The socket's client: the SDK's ``deviceId`` first, else the page's cookie sent with the handshake."""
    headers = list(scope.get("headers") or [])
    agent = next((v.decode("latin-1") for k, v in headers if k.lower() == b"user-agent"), "")
    client = scope.get("client")
    return DeviceSeen(
        device_id=device_id_valid(sdk_device_id) or _cookie(headers),
        address=address_clean(client[0]) if client else None,
        user_agent=agent[:USER_AGENT_MAX_LENGTH],
    )


def session_device_record(*, session_id: uuid.UUID | str, seen: DeviceSeen) -> None:
    """Note the client on an unfinished session (the last opening wins; no device id keeps the earlier one)."""
    fields: dict[str, Any] = {"client_address": seen.address, "user_agent": seen.user_agent}
    if seen.device_id:
        fields["device_id"] = device_hash(seen.device_id)
    Session.objects.filter(id=session_id, status__in=Session.UNFINISHED).update(**fields)


def _user_sessions(*, session: Session, user: EntryUser) -> Any:
    """The user's other sessions: bound to them (Recovery, Identify, entryUserId), and their enrolment."""
    bound = Q(entry_user_id=user.id)
    if user.enrolled_session_id is not None:
        bound |= Q(id=user.enrolled_session_id)
    return Session.objects.filter(bound, account_id=session.account_id).exclude(id=session.id)


def _new_device(*, session: Session, user: EntryUser) -> bool:
    """A device id never seen on a passed session of the user (a user with no known device has none new)."""
    if not session.device_id:
        return False
    passed = _user_sessions(session=session, user=user).filter(verification_result=VerifierResult.PASS)
    known = set(passed.exclude(device_id="").values_list("device_id", flat=True))
    if user.device_id:
        known.add(user.device_id)
    return bool(known) and session.device_id not in known


def _address_changed(*, session: Session, user: EntryUser) -> bool:
    """The user's previous session within RISK_ADDRESS_CHANGE_MINUTES came from another address (network)."""
    minutes = int(settings.RISK_ADDRESS_CHANGE_MINUTES)
    if not session.client_address or minutes == 0:
        return False
    since = timezone.now() - timedelta(minutes=minutes)
    previous = (
        _user_sessions(session=session, user=user)
        .filter(created_at__gte=since, created_at__lt=session.created_at, client_address__isnull=False)
        .order_by("-created_at")
        .values_list("client_address", flat=True)
        .first()
    )
    return previous is not None and address_key(str(previous)) != address_key(str(session.client_address))


def device_risk_signals(*, session: Session, entry_user_id: uuid.UUID | None) -> tuple[str, ...]:
    """``newDevice`` and ``addressChange`` of a session bound to (or identifying) a user; () without one."""
    user = EntryUser.objects.filter(account_id=session.account_id, id=entry_user_id).first() if entry_user_id else None
    if user is None:
        return ()
    signals = []
    if _new_device(session=session, user=user):
        signals.append(NEW_DEVICE)
    if _address_changed(session=session, user=user):
        signals.append(ADDRESS_CHANGE)
    return tuple(signals)


def user_device_note(*, session: Session) -> None:
    """A passed session bound to a user: its device becomes the user's ``deviceId``."""
    if session.passed and session.entry_user_id is not None and session.device_id:
        EntryUser.objects.filter(account_id=session.account_id, id=session.entry_user_id).update(
            device_id=session.device_id, updated_at=timezone.now()
        )


def device_seen_from_request(request: HttpRequest) -> tuple[DeviceSeen, str | None]:
    """The page's client, and a fresh device id to set as the cookie when the browser brought none."""
    cookie = device_id_valid(request.COOKIES.get(DEVICE_COOKIE))
    fresh = None if cookie else device_id_new()
    seen = DeviceSeen(
        device_id=cookie or fresh,
        address=address_clean(request.META.get("REMOTE_ADDR")),
        user_agent=str(request.META.get("HTTP_USER_AGENT", ""))[:USER_AGENT_MAX_LENGTH],
    )
    return seen, fresh


def device_cookie_set(response: HttpResponse, *, request: HttpRequest, device_id: str) -> None:
    """The first-party device cookie: long-lived, HttpOnly, Secure over HTTPS, SameSite=Lax."""
    response.set_cookie(
        DEVICE_COOKIE,
        device_id,
        max_age=DEVICE_COOKIE_MAX_AGE,
        httponly=True,
        secure=request.is_secure(),
        samesite="Lax",
    )
