"""The JSON body of an event: small, stable, and identical on every attempt.

Shape: ``{"type", "id", "timestamp", ...seed fields, "data": {...}}`` where
``id`` equals the ``webhook-id`` header and ``data`` is the caller's result
dict (for sessions: the get-session-result fields) without binary data; or,
for a session created through an adapter's API, that API's body alone.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

from apps.core.timestamps import utc_timestamp

from .event_types import SESSION_EVENT_PREFIX, EventType

logger = logging.getLogger(__name__)

# Receivers written against the 001 seed product know one event, "VerificationCompleted", sent when a
# session ends; every session event carries it (``type`` tells completed, cancelled and expired apart).
SEED_SESSION_EVENT = "VerificationCompleted"
# Receivers written against the 004 seed read its fields (check_id, ...) at the top level of the body.
TOP_LEVEL_DATA_EVENTS = frozenset({EventType.SELFIE_CHECK_COMPLETED})
_RESERVED = frozenset({"type", "id", "timestamp", "data"})
# Longer strings are pictures or video (base64, data: URLs), which a webhook never carries.
_MAX_STRING = 2048
# What survives when a payload is still too large after trimming.
_CORE_FIELDS = ("verificationSessionId", "verificationResult", "verificationFailedReasons", "status")


def _small(value: Any) -> Any:
    """A copy of ``value`` without binary data, pictures or very long strings."""
    if isinstance(value, dict):
        return {str(key): _small(item) for key, item in value.items() if not _bulky(item)}
    if isinstance(value, list | tuple):
        return [_small(item) for item in value if not _bulky(item)]
    return value


def _bulky(value: Any) -> bool:
    if isinstance(value, bytes | bytearray | memoryview):
        return True
    return isinstance(value, str) and (len(value) > _MAX_STRING or value.startswith("data:"))


def _dumps(body: dict[str, Any]) -> str:
    return json.dumps(body, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False)


def payload_build(
    *, event_id: str, event_type: str, occurred_at: datetime, data: dict[str, Any], enveloped: bool = True
) -> str:
    """Serialise the body: Standard Webhooks ``type``/``timestamp``/``data``, the event id and seed fields.

    ``enveloped=False``: ``data`` is the whole body, for receivers written against another API (002's
    webhook is its session result). The event id and time still travel in the signed headers.
    """
    data = _small(data)
    if not enveloped:
        return _dumps(data)
    body: dict[str, Any] = {"type": event_type, "id": event_id, "timestamp": utc_timestamp(occurred_at)}
    if event_type.startswith(SESSION_EVENT_PREFIX):
        if event_type != EventType.SESSION_CHECK:  # a check alert is no completion, whatever 001 receivers assume
            body["event"] = SEED_SESSION_EVENT
        body["verificationSessionId"] = data.get("verificationSessionId")
    if event_type in TOP_LEVEL_DATA_EVENTS:
        body |= {key: value for key, value in data.items() if key not in _RESERVED}
    body["data"] = data
    text = _dumps(body)
    if len(text.encode()) > int(settings.WEBHOOK_MAX_PAYLOAD_BYTES):
        logger.warning("Webhook %s payload of %d bytes trimmed to its core fields", event_id, len(text.encode()))
        body["data"] = {key: data[key] for key in _CORE_FIELDS if key in data} | {"truncated": True}
        text = _dumps(body)
    return text
