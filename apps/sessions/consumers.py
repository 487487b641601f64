"""The capture socket: thin async consumer at ``/ws/v1/sessions/<id>/``.

The browser authenticates with its session token (first message), then streams
binary JPEG frames; frames go to the ``frames`` Celery queue and workers answer
through the session's channel-layer group, or (``CAPTURE_ANALYSIS = "web"``) a thread
pool of this process analyses them and hands the feedback straight back. Protocol:
docs/websocket.md; close codes: ``protocol.CloseCode``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from datetime import UTC, datetime
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from apps.core.metrics import rate_limit_refused
from apps.core.parsers import json_problem
from apps.core.timestamps import utc_timestamp

from . import tasks
from .events import ChannelEvent, FeedbackMessage, TokenMessage, WatchMessage, session_group
from .frame_timing import frame_marks_observe_delivered
from .messages import session_result_message, session_state_message
from .models import Session
from .protocol import CloseCode
from .result_watch import ResultWatch, result_key
from .services.checks import session_check_window_open
from .services.connect import ConnectRefusedError, session_connect
from .services.devices import device_seen_from_scope
from .services.frames import frame_encode
from .services.lifecycle import session_cancel, session_expire, session_retry
from .socket_base import SocketBase
from .state_store import capture_record_get
from .tokens import session_token_issue
from .web_analysis import frame_analyse_here

MAX_TEXT_BYTES = 8192
JPEG_MAGIC = b"\xff\xd8\xff"
# After a final result, the socket closes 4410 this much later (unless the client closed it first).
RESULT_CLOSE_GRACE_SECONDS = 1.0


class SessionConsumer(SocketBase, ResultWatch):
    async def connect(self) -> None:
        self.session_id = str(self.scope["url_route"]["kwargs"]["session_id"])
        self.authenticated = False
        self.closed = False
        self.status = ""
        self.expires_at = 0.0
        self.gen: str | None = None
        self.seq = 0
        self.frames = 0  # binary messages received: the client's own frame numbering
        self.frame_of_seq: dict[int, int] = {}
        self.acked = 0
        self.last_sent_at = 0.0
        self.last_frame_at = 0.0
        self.last_slow_down_at = 0.0
        self.dropped: list[float] = []
        self.received: deque[float] = deque()  # when each message of the last second arrived, of any kind
        self.pending: set[asyncio.Task[None]] = set()
        # Continuous checks: the client asked to watch ("watch": true in auth); watching once the session passed.
        self.watch = False
        self.watch_until = 0.0
        self.check_sent_at = 0.0
        self.check_pending = False
        self.resume_at = 0.0  # when the last resume token was sent
        self.close_deadline: asyncio.TimerHandle | None = None  # the close 4410 after a final result
        self.result_watch: str | None = None  # the attempt (gen) whose result the socket is reading from the database
        self.result_seen: tuple[Any, ...] | None = None  # the last result sent: the same one again is not resent
        await self.accept()
        self.auth_deadline = asyncio.get_running_loop().call_later(
            float(settings.CAPTURE_AUTH_TIMEOUT_SECONDS), lambda: self._spawn(self._auth_timeout())
        )

    async def disconnect(self, code: int) -> None:
        self.closed = True
        self.auth_deadline.cancel()
        if self.close_deadline is not None:
            self.close_deadline.cancel()
        if self.authenticated:
            await self.channel_layer.group_discard(session_group(self.session_id), self.channel_name)

    # --- client -> server -----------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closed or await self._flooded(time.monotonic()):
            return
        if bytes_data is not None:
            await self._on_frame(bytes_data)
        elif text_data is not None:
            await self._on_text(text_data)

    async def _on_text(self, text: str) -> None:
        message: Any = None
        if len(text) <= MAX_TEXT_BYTES:
            try:
                message = json.loads(text)
            except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
                message = None
            if json_problem(message, int(settings.API_MAX_JSON_DEPTH)) is not None:
                message = None  # a lone surrogate (not text: the token's decoder raised on it) or deep nesting
        kind = message.get("type") if isinstance(message, dict) else None
        if not self.authenticated:
            if kind == "auth":
                self.watch = message.get("watch") is True
                await self._authenticate(message.get("token"), message.get("deviceId"))
            else:
                await self._refuse("notAuthenticated", 'Send {"type": "auth", "token": ...} first.')
            return
        handlers = {"retry": self._on_retry, "cancel": self._on_cancel, "ping": self._on_ping}
        handler = handlers.get(kind) if isinstance(kind, str) else None
        if handler is None:
            await self._error("badMessage", "Unknown or malformed control message.")
            return
        await handler()

    async def _on_frame(self, frame: bytes) -> None:
        self.frames += 1
        if not self.authenticated:
            await self._refuse("notAuthenticated", "Authenticate before sending frames.")
            return
        await self._resume_refresh(time.time())
        if len(frame) > int(settings.CAPTURE_MAX_FRAME_BYTES):
            await self._error("frameTooLarge", f"Frames may not exceed {settings.CAPTURE_MAX_FRAME_BYTES} bytes.")
            await self._close(CloseCode.TOO_BIG)
            return
        if self.watch_until:
            await self._on_sample(frame)
            return
        now = time.time()
        if await self._expired(now):
            return
        if self.status != Session.Status.IN_PROGRESS or self.gen is None:
            await self._error("notCapturing", "The session is not capturing; the frame was ignored.")
            return
        if not frame.startswith(JPEG_MAGIC):
            await self._error("badFrame", "Frames must be JPEG images.")
            return
        if await self._throttled(now):
            return
        if self.seq - self.acked >= int(settings.CAPTURE_MAX_IN_FLIGHT) and now - self.last_sent_at < 3:
            return  # workers are behind: drop rather than queue stale frames
        self.seq += 1
        self.frame_of_seq[self.seq] = self.frames
        self.last_sent_at = now
        self._spawn(self._dispatch(self.gen, self.seq, frame, now))

    async def _flooded(self, now: float) -> bool:
        """Every message counts, of any kind and in any state (frames, pings, junk, before auth): each one costs
        the server work, so more than CAPTURE_MAX_MESSAGES_PER_SECOND within a second closes with 4429."""
        self.received.append(now)
        while now - self.received[0] >= 1.0:
            self.received.popleft()
        if len(self.received) <= int(settings.CAPTURE_MAX_MESSAGES_PER_SECOND):
            return False
        rate_limit_refused(limit="capture-messages")
        await self._error("flood", "Too many messages; the connection is closed.")
        await self._close(CloseCode.FLOOD)
        return True

    async def _throttled(self, now: float) -> bool:
        interval = 1.0 / float(settings.CAPTURE_MAX_FPS)
        # 20% slack: browsers' timers jitter around the frame interval.
        if now - self.last_frame_at >= interval * 0.8:
            self.last_frame_at = now
            return False
        self.dropped = [t for t in self.dropped if now - t < 1.0]
        self.dropped.append(now)
        if len(self.dropped) > 5 * int(settings.CAPTURE_MAX_FPS):
            rate_limit_refused(limit="capture-frames")
            await self._error("flood", "Too many frames; the connection is closed.")
            await self._close(CloseCode.FLOOD)
            return True
        if now - self.last_slow_down_at >= 1.0:
            self.last_slow_down_at = now
            feedback: FeedbackMessage = {"type": "feedback", "codes": ["slowDown"], "faceCount": -1, "seq": self.seq}
            await self._send(feedback)
        return True

    async def _dispatch(self, gen: str, seq: int, frame: bytes, received_at: float) -> None:
        if settings.CAPTURE_ANALYSIS == "web":
            await frame_analyse_here(
                session_id=self.session_id, gen=gen, seq=seq, frame=frame, received_at=received_at,
                deliver=self._deliver_here,
            )  # fmt: skip
            return
        # Eager (embedded) mode runs the analysis inside this call, so it must leave the event loop.
        await database_sync_to_async(tasks.frame_analyze_request, thread_sensitive=False)(
            session_id=self.session_id, gen=gen, seq=seq, frame=frame, received_at=received_at
        )

    async def _deliver_here(self, event: ChannelEvent) -> None:
        # A frame's own event, handed over by this process's analysis thread: handled as from the channel layer.
        await self.dispatch(dict(event))

    async def _authenticate(self, token: Any, device_id: Any = None) -> None:
        self.auth_deadline.cancel()
        try:
            session, resume = await database_sync_to_async(session_connect)(
                session_id=self.session_id,
                token=token if isinstance(token, str) else "",
                seen=device_seen_from_scope(self.scope, sdk_device_id=device_id),
            )
        except ConnectRefusedError as exc:
            await self._error(exc.code, exc.message)
            await self._close(exc.close_code)
            return
        self.authenticated = True
        group = session_group(self.session_id)
        # Another tab or a stale socket stops streaming (its attempt just restarted); one about to close takes nothing.
        if not session.is_finished or (self.watch and session.passed):
            await self.channel_layer.group_send(group, {"type": "capture.takeover", "channel": self.channel_name})
        await self.channel_layer.group_add(group, self.channel_name)
        await self._adopt(session)
        await self._send(session_state_message(session=session, resume_token=resume))
        self.resume_at = time.time()
        await self._announce(session)
        if session.is_finished:
            await self._finished()
        elif session.status == Session.Status.ANALYSING:
            self._watch_result()  # reconnected while the verdict is being made

    async def _adopt(self, session: Session) -> None:
        self.status = session.status
        self.expires_at = session.expires_at.timestamp()
        record = await database_sync_to_async(capture_record_get)(session_id=self.session_id)
        waiting_retry = session.verdict == "retry"
        self.gen = record["gen"] if record and not waiting_retry else None
        self.seq = self.acked = 0
        self.frame_of_seq.clear()
        self.result_seen = None

    async def _announce(self, session: Session) -> None:
        """The stored result, when there is one (the database is the source of truth)."""
        result = await database_sync_to_async(session_result_message)(session=session)
        if result is not None:
            self.result_seen = result_key(dict(result))
            await self._send(result)

    async def _expired(self, now: float) -> bool:
        """Past its time to live, the session expires now (the sweep may not have run yet); True when it has."""
        if now < self.expires_at or self.status not in Session.UNFINISHED:
            return False
        await database_sync_to_async(session_expire)(session_id=self.session_id)
        return True

    async def _on_retry(self) -> None:
        if await self._expired(time.time()):
            return
        session = await database_sync_to_async(session_retry)(session_id=self.session_id)
        if session is None:
            await self._error("retryNotAllowed", "No retry is available for this session.")
            return
        await self._adopt(session)
        await self._send(session_state_message(session=session))
        await self._announce(session)

    async def _on_cancel(self) -> None:
        if not await database_sync_to_async(session_cancel)(session_id=self.session_id):
            await self._error("notCancellable", "The session is already finished.")

    async def _on_ping(self) -> None:
        await self._send({"type": "pong"})
        await self._resume_refresh(time.time())

    async def _resume_refresh(self, now: float) -> None:
        """A fresh resume token once half the last one's life is gone: a socket open for long (continuous checks
        last an hour) can still reconnect after a drop, which a token of its first minutes could not."""
        if now - self.resume_at >= float(settings.SESSION_TOKEN_TTL_SECONDS) / 2:
            self.resume_at = now
            message: TokenMessage = {"type": "token", "resumeToken": session_token_issue(session_id=self.session_id)}
            await self._send(message)

    # --- continuous checks (the SDK's headless mode) ---------------------------------------------

    async def _finished(self, grace: float = 0.0) -> None:
        """The session has its final result: a watching socket of a passed session within its check window
        takes samples; any other socket closes 4410 (docs/websocket.md), ``grace`` seconds later."""
        if self.watch and await self._watch_start():
            return
        if grace:
            self.close_deadline = asyncio.get_running_loop().call_later(
                grace, lambda: self._spawn(self._close(CloseCode.SESSION_FINISHED))
            )
        else:
            await self._close(CloseCode.SESSION_FINISHED)

    async def _watch_start(self) -> bool:
        """Start taking samples when the session passed and its check window is open."""
        session = await database_sync_to_async(Session.objects.filter(id=self.session_id).first)()
        if session is None or not await database_sync_to_async(session_check_window_open)(session=session):
            return False
        assert session.completed_at is not None
        until = session.completed_at.timestamp() + float(settings.SESSION_CHECK_WINDOW_SECONDS)
        self.watch_until = until
        watch: WatchMessage = {
            "type": "watch",
            "minIntervalMs": int(settings.SESSION_CHECK_MIN_INTERVAL_MS),
            "until": utc_timestamp(datetime.fromtimestamp(until, UTC)),
        }
        await self._send(watch)
        return True

    async def _on_sample(self, frame: bytes) -> None:
        now = time.time()
        if now > self.watch_until:
            await self._error("checkWindowClosed", "The session's check window is over.")
            await self._close(CloseCode.SESSION_FINISHED)
            return
        if not frame.startswith(JPEG_MAGIC):
            await self._error("badFrame", "Samples must be JPEG images.")
            return
        interval = float(settings.SESSION_CHECK_MIN_INTERVAL_MS) / 1000.0
        # One sample at a time (a lost answer frees the slot after 5 s), at most one per interval (20 % slack).
        if now - self.check_sent_at < interval * 0.8 or (self.check_pending and now - self.check_sent_at < 5):
            return
        self.check_pending, self.check_sent_at = True, now
        self._spawn(self._dispatch_sample(self.frames, frame))

    async def _dispatch_sample(self, number: int, frame: bytes) -> None:
        await database_sync_to_async(tasks.session_check.delay, thread_sensitive=False)(
            self.session_id, number, frame_encode(frame)
        )

    async def _auth_timeout(self) -> None:
        if not self.authenticated and not self.closed:
            await self._refuse("authTimeout", "No auth message arrived in time.")

    # --- worker -> server -> client (channel-layer events) ----------------------------------

    def _other_attempt(self, event: dict[str, Any]) -> bool:
        """A frame event of another attempt or connection (a frame still queued when this socket took over):
        its sequence numbers are not this socket's. Events without ``gen`` (an older worker) are taken."""
        return event.get("gen") is not None and event["gen"] != self.gen

    async def capture_frame(self, event: dict[str, Any]) -> None:
        if self._other_attempt(event):
            return
        self.acked = max(self.acked, int(event["seq"]))
        frame = self.frame_of_seq.pop(int(event["seq"]), None)
        marks, delivered = event.get("timing"), time.time()
        for message in event["messages"]:
            if message.get("type") == "feedback" and frame is not None:
                message = {**message, "frame": frame}
                if marks and settings.CAPTURE_FRAME_TIMINGS:
                    message["timings"] = {**marks, "delivered": delivered, "sent": time.time()}
            await self._send(message)
        if event.get("complete"):
            self._watch_result()  # this frame completed the capture: its result must reach this socket
        if marks:
            frame_marks_observe_delivered(marks, delivered=delivered, sent=time.time())

    async def capture_skipped(self, event: dict[str, Any]) -> None:
        if self._other_attempt(event):
            return
        self.acked = max(self.acked, int(event["seq"]))
        self.frame_of_seq.pop(int(event["seq"]), None)
        if event.get("complete"):
            self._watch_result()  # skipped because the capture is complete: that frame's feedback may be lost

    async def capture_message(self, event: dict[str, Any]) -> None:
        message = event["message"]
        if message.get("type") == "check" or (message.get("type") == "error" and self.watch_until):
            self.check_pending = False  # a sample's answer, a check or an error (badFrame, noEnrolledFace)
        elif message.get("type") == "state":
            if message["status"] == Session.Status.ANALYSING and (
                self.status == Session.Status.ANALYSING or (self.gen is None and self.result_seen is not None)
            ):
                return  # said already (read from the database first), or late: the result was read before it
            self.status = message["status"]
            if self.status == Session.Status.ANALYSING:
                self._watch_result()
        elif message.get("type") == "result":
            if self.gen is None and result_key(message) == self.result_seen:
                return  # this result again: read from the database first, then brought by the layer (or reversed)
            self.result_seen = result_key(message)
            self.gen = None
            self.status = Session.Status.IN_PROGRESS if message["verdict"] == "retry" else Session.Status.COMPLETED
        await self._send(message)
        if message.get("type") == "result" and message["verdict"] != "retry" and not self.watch_until:
            # A client streaming frames is still sending as the result arrives: it gets the time to read the
            # result and close the socket itself, rather than a connection reset under its next frame.
            await self._finished(grace=RESULT_CLOSE_GRACE_SECONDS)

    async def capture_takeover(self, event: dict[str, Any]) -> None:
        if event.get("channel") != self.channel_name:
            await self._error("superseded", "Another connection took over this session.")
            await self._close(CloseCode.SUPERSEDED)
