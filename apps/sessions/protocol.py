"""The capture socket's close codes, defined once (docs/websocket.md, "Errors and close codes", lists them)."""

from __future__ import annotations

from enum import IntEnum


class CloseCode(IntEnum):
    """Why the server closed a capture socket; 1000/1009 are RFC 6455's, 44xx mirror HTTP statuses."""

    NORMAL = 1000
    TOO_BIG = 1009
    UNAUTHENTICATED = 4401
    WRONG_SESSION = 4403
    UNKNOWN_SESSION = 4404
    TOKEN_USED = 4409
    SESSION_FINISHED = 4410
    SUPERSEDED = 4411
    FLOOD = 4429
