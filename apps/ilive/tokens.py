"""The iLive session token: one per session, for reading its result and photo and opening its socket.

002 gives each session "a unique token for result retrieval". Ours is an HMAC of the session id under a
key derived for this purpose only, so nothing is stored and no other token (a sessionToken, a hosted-page
key, an API token) can pass as one. It is good for as long as the session's result is kept.
"""

from __future__ import annotations

import hmac
import uuid

from django.core import signing

from apps.core.keys import derive_key

_SALT = "liveproof.ilive.session-token"


def _signer() -> signing.Signer:
    return signing.Signer(key=derive_key("ilive-session-token").hex(), salt=_SALT)


def ilive_token_issue(*, session_id: uuid.UUID | str) -> str:
    """The session's token (the same value every time: 002 gives one token per session)."""
    return _signer().sign(str(session_id)).rsplit(":", 1)[-1]


def ilive_token_check(*, session_id: uuid.UUID | str, token: str) -> bool:
    """Whether ``token`` is the token of ``session_id`` (constant time)."""
    if not isinstance(token, str) or not token or len(token) > 200:
        return False
    return hmac.compare_digest(ilive_token_issue(session_id=session_id).encode(), token.encode())
