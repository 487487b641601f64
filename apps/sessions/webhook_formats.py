"""Webhook bodies of sessions created through an adapter's API (``apps.ilive``: 002's result).

A session's ``webhook_format`` names the adapter that created it; the adapter registers, when its app is
ready, the body its receivers expect in place of our event body. That body is sent as it is (no
``type``/``id``/``data`` envelope) through the same machinery as every event (apps/webhooks): recorded in
the transaction that finishes the session, signed with the Standard Webhooks headers, retried, listed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from .models import Session

logger = logging.getLogger(__name__)

WebhookBody = Callable[[Session], dict[str, Any]]
_formats: dict[str, WebhookBody] = {}


def session_webhook_format_register(*, name: str, body: WebhookBody) -> None:
    """Let sessions with ``webhook_format == name`` send ``body(session)`` when they finish."""
    _formats[name] = body


def session_webhook_body(*, session: Session) -> dict[str, Any] | None:
    """The adapter's body for the session's finishing event; None for our own (an enveloped event)."""
    if not session.webhook_format:
        return None
    build = _formats.get(session.webhook_format)
    if build is None:  # the adapter is not installed: our body is better than no event
        logger.warning("No webhook format %r for session %s; sending ours", session.webhook_format, session.id)
        return None
    return build(session)
