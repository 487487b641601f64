"""Timestamps a frame carries through its trip, and the metrics observed from them.

A frame's marks are wall-clock times (``time.time()``: the web process and the
workers compare them, on one host or on hosts with synchronised clocks):

* ``received``: the capture socket's consumer got the frame;
* ``enqueued``: the frame, base64-encoded, is handed to the broker;
* ``started``: a frames worker starts on it;
* ``loaded``: the session's lock is held and its state loaded;
* ``analysed``: the engine has analysed the frame;
* ``saved``: the new state is stored;
* ``delivered``: the consumer holds the worker's feedback (after the channel-layer hop);
* ``sent``: the consumer hands the feedback to the socket.

With ``CAPTURE_FRAME_TIMINGS`` on, the feedback message carries them as ``timings``
(``bench/sessions.py`` turns them into the share of each stage). The face engine
knows nothing of this: the marks are taken around its calls.
"""

from __future__ import annotations

import time

from apps.core.metrics import FRAME_LATENCY, FRAME_QUEUE_WAIT, FRAME_STAGE

FrameMarks = dict[str, float]

# Stage name -> (from mark, to mark), in the order of the trip; the metrics' "stage" label.
WORKER_STAGES = {
    "enqueue": ("received", "enqueued"),
    "state_load": ("started", "loaded"),
    "analysis": ("loaded", "analysed"),
    "state_save": ("analysed", "saved"),
}


def frame_marks_start(*, received_at: float, enqueued_at: float) -> FrameMarks:
    """The marks of a frame a worker starts on now; observes its queue wait."""
    started = time.time()
    enqueued = enqueued_at or received_at  # a message queued before the marks existed carries no enqueue time
    FRAME_QUEUE_WAIT.observe(max(started - enqueued, 0.0))
    return {"received": received_at, "enqueued": enqueued, "started": started}


def frame_mark(marks: FrameMarks, name: str) -> None:
    marks[name] = time.time()


def frame_marks_observe_worker(marks: FrameMarks) -> None:
    """Observe the worker's stages of an analysed frame."""
    for stage, (start, end) in WORKER_STAGES.items():
        if start in marks and end in marks:
            FRAME_STAGE.labels(stage=stage).observe(max(marks[end] - marks[start], 0.0))


def frame_marks_observe_delivered(marks: FrameMarks, *, delivered: float, sent: float) -> None:
    """Observe the notify stage and the whole server-side latency once the consumer has sent the feedback."""
    if "saved" in marks:
        FRAME_STAGE.labels(stage="notify").observe(max(delivered - marks["saved"], 0.0))
    FRAME_LATENCY.observe(max(sent - marks["received"], 0.0))
