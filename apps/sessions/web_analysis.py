"""Frames analysed in the web process that holds their socket (``CAPTURE_ANALYSIS = "web"``).

The frames worker's service runs in a thread pool of this process: the same session lock, the same state
saved to Redis after every frame, so a socket that reconnects to another web process (this one died, or a
load balancer sent it elsewhere) carries on where this one stopped. What it saves per frame: the broker hop
(publish, queue, a worker's task machinery), base64 both ways, and the channel-layer hop for the feedback,
which goes straight back to the socket. State and result messages still take the session's group.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from . import tasks
from .events import ChannelEvent
from .services.frames import session_frame_analyze

logger = logging.getLogger(__name__)
# How long an analysis thread waits for the event loop to take a frame's feedback (it holds the session's lock).
DELIVER_TIMEOUT_SECONDS = 2.0
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def analysis_pool() -> ThreadPoolExecutor:
    """The threads that analyse frames in this process (``CAPTURE_ANALYSIS_THREADS``), made on first use.

    One thread by default: with two, or with the verdicts on threads of their own, the verdicts of sessions
    that finish together took longer (bench/sessions.py, docs/benchmarks.md)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            threads = int(settings.CAPTURE_ANALYSIS_THREADS)
            _pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="capture-analysis")
        return _pool


async def frame_analyse_here(
    *,
    session_id: str,
    gen: str,
    seq: int,
    frame: bytes,
    received_at: float,
    deliver: Callable[[ChannelEvent], Coroutine[Any, Any, None]],
) -> None:
    """Analyse one frame in this process's pool; ``deliver`` (on this event loop) gets the frame's own event."""
    loop = asyncio.get_running_loop()

    def deliver_from_thread(event: ChannelEvent) -> None:
        # Waits until the socket has the feedback: a state or result message the same call publishes
        # afterwards (through the group) cannot overtake it.
        try:
            asyncio.run_coroutine_threadsafe(deliver(event), loop).result(DELIVER_TIMEOUT_SECONDS)
        except Exception:  # the socket or the loop went away meanwhile; the state is saved either way
            logger.warning("Could not deliver a frame's feedback to session %s", session_id, exc_info=True)

    analyse = database_sync_to_async(session_frame_analyze, thread_sensitive=False, executor=analysis_pool())
    await analyse(
        session_id=session_id,
        gen=gen,
        seq=seq,
        frame=frame,
        received_at=received_at,
        enqueued_at=time.time(),
        key_frame_request=tasks.key_frame_embed_request,
        deliver=deliver_from_thread,
    )
