"""Standard Webhooks v1 signatures (https://www.standardwebhooks.com).

``webhook-signature`` is ``v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">``
keyed with the base64-decoded part of the ``whsec_`` secret; during a
rotation one signature per live secret is sent, separated by spaces, so a
receiver holding either secret accepts the message.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import tomllib
from functools import cache

from django.conf import settings

SECRET_PREFIX = "whsec_"  # noqa: S105 - a format prefix, not a secret


def secret_generate() -> str:
    """A new ``whsec_`` secret: 32 random bytes, base64-encoded."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _secret_bytes(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(*, secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """One ``v1,<base64>`` signature of the message."""
    digest = hmac.new(_secret_bytes(secret), f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


@cache
def user_agent() -> str:
    """``Liveproof-Webhooks/<version>``, the version read once from pyproject.toml."""
    try:
        with open(settings.BASE_DIR / "pyproject.toml", "rb") as fh:
            version = tomllib.load(fh)["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        version = "0"
    return f"Liveproof-Webhooks/{version}"


def signed_headers(
    *, secrets_: list[str], msg_id: str, timestamp: int, body: str, agent: str | None = None
) -> dict[str, str]:
    """The headers of one attempt; the timestamp is the attempt's own, the id is the event's.

    ``agent`` replaces the default User-Agent (an event type that has its own, see EVENT_USER_AGENTS).
    """
    return {
        "Content-Type": "application/json",
        "User-Agent": agent or user_agent(),
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            signature(secret=s, msg_id=msg_id, timestamp=timestamp, body=body) for s in secrets_
        ),
    }
