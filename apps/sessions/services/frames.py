"""Frame analysis: one JPEG through the engine, feedback to the socket; the last frame starts the verdict."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable

from django.conf import settings

from apps.core.engine import engine_load_in_background, get_engine
from apps.core.metrics import VERDICT_LATENCY, EngineTimer
from apps.face_engine.types import FrameError

from ..events import ChannelEvent, FrameAnalysedEvent, FrameSkippedEvent
from ..frame_timing import frame_mark, frame_marks_observe_worker, frame_marks_start
from ..messages import frame_messages, session_state_message
from ..models import Session
from ..notifier import notify, notify_message
from ..session_locks import session_lock_reading
from ..state_store import capture_record_decode, capture_record_key, capture_record_put
from .attempts import frame_log_append
from .create import capture_state_load
from .key_frames import KeyFrameRequest
from .verdict import session_decide

# A frame that arrived after the completing one may still hold the session's lock for a few milliseconds
# (longer on a loaded machine); the verdict waits for it rather than leaving the session to the sweep.
DECIDE_LOCK_WAIT_SECONDS = 5.0


# Hands a frame's own event (feedback, skipped) to the socket that sent the frame.
FrameDelivery = Callable[[ChannelEvent], None]


def engine_warm_up() -> None:
    """Load the face models in the background when this process will analyse frames itself (the embedded mode,
    or CAPTURE_ANALYSIS = "web")."""
    if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False) or settings.CAPTURE_ANALYSIS == "web":
        engine_load_in_background()


def frame_encode(frame: bytes) -> str:
    return base64.b64encode(frame).decode("ascii")


def session_frame_analyze(
    *,
    session_id: str,
    gen: str,
    seq: int,
    frame_b64: str | None = None,
    received_at: float,
    key_frame_request: KeyFrameRequest,
    enqueued_at: float = 0.0,
    frame: bytes | None = None,
    deliver: FrameDelivery | None = None,
) -> None:
    """Run one frame through the engine and publish feedback; the last frame starts the analysis.

    A frame arriving while another frame of the same session is being analysed,
    or older than the last one analysed, is skipped rather than corrupting state.
    Each new same-person key frame goes to ``key_frame_request``, to be embedded
    while the capture goes on. The frame comes as ``frame`` (bytes, analysed in the
    web process) or ``frame_b64`` (a task's JSON argument). Its own event goes to
    ``deliver`` when given (the socket in this process), else through the session's
    channel-layer group; the session's state and result messages always take the group.
    """
    sid = str(session_id)

    def send(event: ChannelEvent) -> None:
        if deliver is not None:
            deliver(event)
        else:
            notify(session_id=sid, event=event)

    marks = frame_marks_start(received_at=received_at, enqueued_at=enqueued_at)
    # Stale only once the capture has started: the first frame may wait for the models to load.
    late = time.time() - received_at > float(settings.CAPTURE_STALE_FRAME_SECONDS)
    with session_lock_reading(session_id=sid, key=capture_record_key(sid)) as lock:
        record = capture_record_decode(lock.value) if lock.acquired else None
        stale = record is not None and late and bool(record["t0"])
        if record is None or record["gen"] != gen or seq <= record["seq"] or record["complete"] or stale:
            skipped: FrameSkippedEvent = {"type": "capture.skipped", "seq": seq, "gen": gen}
            if record is None or (record["gen"] == gen and record["complete"]):
                skipped["complete"] = True  # the capture is over (its record goes once the verdict is stored)
            send(skipped)
            return
        engine = get_engine()
        try:
            jpeg = frame if frame is not None else base64.b64decode(frame_b64 or "", validate=True)
            # Engine time starts at the first analysed frame: a slow first model load must not eat the capture.
            record["t0"] = record["t0"] or received_at
            state = capture_state_load(engine, record)
            known = {pending.t for pending in engine.key_frames_pending(state)}
            engine_time = max(received_at - record["t0"], 0.0)
            frame_mark(marks, "loaded")
            with EngineTimer("analyze_frame"):
                result = engine.analyze_frame(state, jpeg, engine_time)
            frame_mark(marks, "analysed")
        except (FrameError, ValueError) as exc:
            record["seq"] = seq
            capture_record_put(session_id=sid, record=record, lock=lock)
            code = getattr(exc, "code", "badImage")
            bad: FrameAnalysedEvent = {
                "type": "capture.frame",
                "seq": seq,
                "gen": gen,
                "messages": [{"type": "error", "code": "badFrame", "message": f"The frame is unusable ({code})."}],
            }
            send(bad)
            return
        messages = frame_messages(record=record, result=result, seq=seq, total=record["total"])
        record["seq"] = seq
        blobs: dict[str, bytes | None] = {}
        record["state"] = result.state.to_json(blobs=blobs)
        record["challenge"] = result.current_challenge or record["challenge"]
        record["reprompts"] = result.reprompts
        record["complete"] = bool(result.capture_complete)
        frame_log_append(record, t=engine_time, result=result)
        capture_record_put(session_id=sid, record=record, blobs=blobs, lock=lock)
        frame_mark(marks, "saved")
    frame_marks_observe_worker(marks)
    event: FrameAnalysedEvent = {"type": "capture.frame", "seq": seq, "gen": gen, "messages": messages, "timing": marks}
    if result.capture_complete:
        event["complete"] = True
    send(event)
    if result.capture_complete:
        # The verdict follows right here and embeds whatever key frame still lacks its descriptor: queued
        # for the key-frame worker as well, the completing key frame was embedded twice (one descriptor wasted).
        session_capture_complete(session_id=sid, gen=gen, received_at=received_at)
        return
    for pending in engine.key_frames_pending(result.state):
        if pending.t not in known:
            key_frame_request(session_id=sid, gen=gen, key=pending)


def session_capture_complete(*, session_id: str, gen: str, received_at: float | None = None) -> bool:
    """in_progress -> analysing, once; then this worker computes the verdict.

    The verdict runs right here rather than as a new task: queued behind other
    sessions' frames it would wait for all of them first.
    """
    updated = Session.objects.filter(id=session_id, status=Session.Status.IN_PROGRESS).update(
        status=Session.Status.ANALYSING
    )
    if updated != 1:
        return False
    # Read once, with the account the verdict needs, for the state message and the verdict both.
    session = Session.objects.select_related("account").get(id=session_id)
    notify_message(session_id=str(session_id), message=session_state_message(session=session))
    stored = session_decide(session_id=str(session_id), gen=gen, lock_wait=DECIDE_LOCK_WAIT_SECONDS, session=session)
    if stored and received_at is not None:
        # From the completing frame's arrival on the socket; a verdict the recovery sweep re-runs is not timed.
        VERDICT_LATENCY.observe(max(time.time() - received_at, 0.0))
    return True
