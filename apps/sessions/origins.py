"""Who may open a capture socket: this service's own hosts, and for one session its account's allowed origins.

A browser sends the ``Origin`` of the page that opened the socket. The hosted
page is on one of ``ALLOWED_HOSTS``; an integrator's own page (the SDK's headless
mode, docs/sdk.md) is on its site, which the account lists in its allowed
origins (``allowedRedirectOrigins``, the same list that may frame the hosted
page). The same holds for a session's iLive frame socket (``/api/v1/session/<id>/ws``,
docs/ilive.md). Any other origin, and a socket without one, is refused before the
handshake (HTTP 403), as Channels' ``AllowedHostsOriginValidator`` does.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

from channels.db import database_sync_to_async
from channels.security.websocket import AllowedHostsOriginValidator, OriginValidator
from django.core.exceptions import ValidationError

from apps.signing.redirects import url_origin

from .models import Session

# The capture socket of one session, and the iLive (002) frame socket of one session (apps/ilive/routing.py).
_SESSION_PATH = re.compile(r"^/(?:ws/v1/sessions/([0-9a-fA-F-]{36})/|api/v1/session/([0-9a-fA-F-]{36})/ws)$")


def _origin_header(scope: dict[str, Any]) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"origin":
            try:
                return str(value.decode("latin1"))
            except UnicodeDecodeError:
                return None
    return None


def session_origin_allowed(*, session_id: str, origin: str) -> bool:
    """Whether ``origin`` is on the allowed origins of the account that owns the session."""
    normalised = url_origin(origin)
    if normalised is None:
        return False
    try:
        allowed = (
            Session.objects.filter(id=session_id).values_list("account__allowed_redirect_origins", flat=True).first()
        )
    except (ValueError, ValidationError):  # not a UUID after all (36 hex digits and dashes in any order)
        return False
    return normalised in (allowed or [])


class SessionOriginValidator:
    """``AllowedHostsOriginValidator`` that also lets a session's account origins open that session's socket."""

    def __init__(self, application: Any) -> None:
        self.application = application
        self.hosts: OriginValidator = AllowedHostsOriginValidator(application)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] != "websocket":
            raise ValueError("SessionOriginValidator handles WebSocket connections only")
        origin = _origin_header(scope)
        if origin is not None:
            match = _SESSION_PATH.match(str(scope.get("path", "")))
            if self.hosts.valid_origin(urlparse(origin)):
                return await self.application(scope, receive, send)
            session_id = match and (match[1] or match[2])
            allowed = database_sync_to_async(session_origin_allowed)
            if session_id and await allowed(session_id=session_id, origin=origin):
                return await self.application(scope, receive, send)
        await _refuse_handshake(receive, send)
        return None


async def _refuse_handshake(receive: Any, send: Any) -> None:
    """Close before accepting: the server answers the handshake with HTTP 403, as Channels' ``WebsocketDenier``.

    That denier is a whole consumer: it listens on the channel layer until the server reports the disconnect, and
    a cancelled channels-redis ``receive()`` can miss its cancellation (redis-py's connection set-up under
    Python 3.11) and go on polling Redis until the server gives up on it. A socket that never opened needs none
    of that: this answers the handshake and ends."""
    message = await receive()
    if message.get("type") == "websocket.connect":
        await send({"type": "websocket.close"})
