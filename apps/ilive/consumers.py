"""002's frame socket: ``/api/v1/session/<id>/ws?token=…`` takes binary JPEG frames from the first message.

It is the capture socket (``apps.sessions.consumers.SessionConsumer``) with another way in: the iLive
token in the query string instead of an ``auth`` message. On connect the token is checked and spent as a
fresh single-use session token, so everything after it (frames, feedback, challenges, result, the close
codes) is the capture socket's own protocol (docs/websocket.md).
"""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs

from channels.db import database_sync_to_async

from apps.core.errors import ApplicationError
from apps.sessions.consumers import SessionConsumer
from apps.sessions.tokens import session_token_issue

from .services import ilive_session_get


def _token_opens(session_id: uuid.UUID | str, token: str) -> bool:
    """The token is this session's and the session is within the result retention, as for the result read."""
    try:
        ilive_session_get(session_id=session_id, token=token)
    except ApplicationError:
        return False
    return True


class IliveSessionConsumer(SessionConsumer):
    async def connect(self) -> None:
        await super().connect()
        query = parse_qs(bytes(self.scope.get("query_string") or b"").decode("latin-1"))
        token = (query.get("token") or [""])[0]
        if not await database_sync_to_async(_token_opens)(self.session_id, token):
            await self._refuse("invalidToken", "The token query parameter is missing or not this session's.")
            return
        await self._authenticate(session_token_issue(session_id=self.session_id))
