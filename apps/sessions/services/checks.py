"""Continuous checks (the SDK's headless mode): each sample of a passed session against its enrolled face.

After a session passed, a socket that authenticated with ``"watch": true`` may
keep sending JPEG samples (docs/websocket.md, "Continuous checks"). A frames
worker finds every face in the sample, compares each with the face the session
kept when it passed (``apps.faces.session_faces``) and answers
``{"type": "check", "samePerson", "similarity", "faceCount", "live", ...}``.

A change of person (one face, not the enrolled one) or several faces is an
alert: listed in the session's ``checks`` (get-session-result) and sent as a
``verification.session.check`` webhook event, once per change (the same alert on
consecutive samples is one entry; a normal sample ends it).

``live`` says the stream is live: a face is in view and the picture changed since
the previous sample (a frozen or replayed still image gives ``false``); ``null``
on the first sample, which has nothing to compare with. Whether the person is live
was the session's own liveness verdict.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
from typing import Any

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from apps.core.engine import get_engine
from apps.core.timestamps import utc_timestamp
from apps.face_engine.types import FaceImage, FaceImageError, FrameError
from apps.faces.search import embedding_from_bytes
from apps.faces.services import ENGINE_LOCK
from apps.faces.session_faces import session_face_get
from apps.webhooks import services as webhooks
from apps.webhooks.event_types import EventType

from ..events import CheckMessage, ErrorMessage
from ..models import Session
from ..notifier import notify_message
from ..selectors import session_result_payload
from ..session_locks import session_lock

CHECK_LOCK_WAIT_SECONDS = 5.0
FACE_CHANGED = "faceChanged"
MULTIPLE_FACES = "multipleFaces"
# Mean absolute difference (0..255) of two 32x24 grey thumbnails below which a stream is frozen.
_FROZEN_BELOW = 0.5


def _memory_key(session_id: str) -> str:
    return f"capture:check:{session_id}"


def _thumbnail(jpeg: bytes) -> np.ndarray | None:
    try:
        with Image.open(io.BytesIO(jpeg)) as image:
            return np.asarray(image.convert("L").resize((32, 24)), dtype=np.float32)
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
        return None


def _error(code: str, message: str) -> ErrorMessage:
    return {"type": "error", "code": code, "message": message}


def session_check_run(*, session_id: str, frame: int, frame_b64: str) -> None:
    """The frames task's body: check one sample and tell the session's socket."""
    try:
        jpeg = base64.b64decode(frame_b64, validate=True)
    except (binascii.Error, ValueError):
        notify_message(session_id=session_id, message=_error("badFrame", "The sample is not a JPEG image."))
        return
    notify_message(session_id=session_id, message=session_check(session_id=session_id, jpeg=jpeg, frame=frame))


def session_check(*, session_id: str, jpeg: bytes, frame: int) -> CheckMessage | ErrorMessage:
    """Compare one sample with the session's enrolled face; record an alert when the person changed."""
    session = Session.objects.select_related("account").filter(id=session_id).first()
    stored = session_face_get(session_id=session_id)
    if session is None or not session.passed or stored is None:
        return _error("noEnrolledFace", "The session has not passed liveness, so there is no face to check against.")
    engine = get_engine()
    try:
        with ENGINE_LOCK:
            faces: list[FaceImage] = list(engine.faces_in_image(jpeg))
    except (FrameError, FaceImageError):
        return _error("badFrame", "The sample is not an image the engine can use.")
    enrolled = tuple(float(x) for x in embedding_from_bytes(stored.embedding))
    comparisons = [
        engine.compare(tuple(face.embedding), enrolled) for face in faces if len(face.embedding) == len(enrolled)
    ]
    best = max(comparisons, key=lambda c: c.similarity, default=None)
    same = best is not None and best.is_identical
    # Two samples checked at once (two frames workers) read the same alert state: under the session's lock a
    # change of person is recorded (and its webhook raised) once.
    with session_lock(session_id=session_id, wait=CHECK_LOCK_WAIT_SECONDS) as acquired:
        memory: dict[str, Any] = json.loads(cache.get(_memory_key(session_id)) or "{}")
        live = _live(memory, jpeg, face_count=len(faces))
        alert = MULTIPLE_FACES if len(faces) > 1 else FACE_CHANGED if len(faces) == 1 and not same else None
        message: CheckMessage = {
            "type": "check",
            "samePerson": same,
            "similarity": round(float(best.similarity), 4) if best is not None else None,
            "faceCount": len(faces),
            "live": live,
            "alert": alert,
            "frame": frame,
        }
        if not acquired:
            return message  # judged, not remembered (the lock's holder is stuck: rare)
        if len(faces) >= 1 and alert != memory.get("alert"):
            if alert is not None:
                _alert_record(session=session, message=message)
            memory["alert"] = alert
        timeout = int(settings.SESSION_CHECK_WINDOW_SECONDS) + 60
        cache.set(_memory_key(session_id), json.dumps(memory), timeout=timeout)
    return message


def _live(memory: dict[str, Any], jpeg: bytes, *, face_count: int) -> bool | None:
    """Whether the picture moved since the previous sample (and shows a face); None on the first one."""
    thumb = _thumbnail(jpeg)
    previous = memory.get("thumb")
    memory["thumb"] = base64.b64encode(thumb.astype(np.uint8).tobytes()).decode() if thumb is not None else None
    if thumb is None or previous is None:
        return None
    before = np.frombuffer(base64.b64decode(previous), dtype=np.uint8).astype(np.float32).reshape(thumb.shape)
    return face_count >= 1 and float(np.mean(np.abs(thumb - before))) >= _FROZEN_BELOW


def _alert_record(*, session: Session, message: CheckMessage) -> None:
    """List the alert on the session (newest SESSION_CHECKS_KEPT) and raise verification.session.check."""
    entry = {
        "at": utc_timestamp(),
        "reason": message["alert"],
        "samePerson": message["samePerson"],
        "similarity": message["similarity"],
        "faceCount": message["faceCount"],
        "live": message["live"],
    }
    with transaction.atomic():
        locked = Session.objects.select_for_update().get(id=session.id)
        locked.checks = [*(locked.checks or []), entry][-int(settings.SESSION_CHECKS_KEPT) :]
        locked.save(update_fields=["checks"])
        webhooks.webhook_event_record(
            account=session.account,
            event_type=EventType.SESSION_CHECK,
            payload={**session_result_payload(session=locked), "check": entry},
            url=session.typed_config.webhook.event_callback_url,
        )


def session_check_window_open(*, session: Session) -> bool:
    """Whether a passed session still takes samples (SESSION_CHECK_WINDOW_SECONDS after it completed)."""
    if not session.passed or session.completed_at is None:
        return False
    age = (timezone.now() - session.completed_at).total_seconds()
    return age <= int(settings.SESSION_CHECK_WINDOW_SECONDS)
