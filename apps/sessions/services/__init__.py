"""Session writes: creation, the capture state machine and the verdict, one module per concern.

Lifecycle: created -> in_progress -> analysing -> completed (Pass/Fail)
| expired | cancelled. A "retry" verdict sends the session back to in_progress
while attempts remain. Every transition is a conditional UPDATE, so a repeated
or racing task (two workers, a redelivered message) changes nothing twice.

- ``create``: session creation, the effective config, the capture plan, attempt reset;
- ``connect``: a socket spends its session token;
- ``frames``: frame analysis and the end of a capture;
- ``key_frames``: key-frame embeddings computed apart;
- ``verdict``: the engine's verdict, stored once;
- ``lifecycle``: retry, cancel, expiry and the periodic sweep;
- ``checks``: continuous checks of a passed session (the Web SDK's headless mode).

The socket's message builders live in ``apps.sessions.messages``.
"""

from __future__ import annotations

from ..messages import session_result_message, session_state_message
from .connect import ConnectRefusedError, session_connect
from .create import capture_attempt_reset, capture_plan_for, capture_state_load, session_create
from .frames import engine_warm_up, frame_encode, session_capture_complete, session_frame_analyze
from .key_frames import KEY_EMBED_EXPIRES_S, KeyFrameRequest, session_key_frame_embed
from .lifecycle import (
    session_cancel,
    session_expire,
    session_result_notify,
    session_retry,
    sessions_expire_due,
    sessions_photos_purge,
    sessions_rescue_stuck,
    webhook_event_record_safe,
)
from .verdict import session_decide, session_verdict_record

__all__ = [
    "KEY_EMBED_EXPIRES_S",
    "ConnectRefusedError",
    "KeyFrameRequest",
    "capture_attempt_reset",
    "capture_plan_for",
    "capture_state_load",
    "engine_warm_up",
    "frame_encode",
    "session_cancel",
    "session_capture_complete",
    "session_connect",
    "session_create",
    "session_decide",
    "session_expire",
    "session_frame_analyze",
    "session_key_frame_embed",
    "session_result_message",
    "session_result_notify",
    "session_retry",
    "session_state_message",
    "session_verdict_record",
    "sessions_expire_due",
    "sessions_photos_purge",
    "sessions_rescue_stuck",
    "webhook_event_record_safe",
]
