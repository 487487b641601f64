"""The capture socket reads its attempt's result from the database when the channel layer lost it.

Once a capture is complete, the "analysing" state and the result reach the socket through the session's
channel-layer group, and a group message can be lost: channels-redis drops one when the socket's channel is
full, a publish can time out, and a verdict the recovery sweep finishes is published from another process
long after. The database holds the verdict either way (it is stored once). So from the completing frame on,
until the result arrived, the socket reads the session every ``CAPTURE_RESULT_CHECK_SECONDS`` and sends what
the layer did not bring (the "analysing" state, the result); a result that then arrives through the layer as
well is not sent twice, nor a late "analysing" after it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from channels.db import database_sync_to_async
from django.conf import settings

from apps.core.metrics import RESULTS_FROM_DATABASE

from .events import ResultMessage, StateMessage
from .messages import session_result_message, session_state_message
from .models import Session

logger = logging.getLogger(__name__)


def _stored(session_id: str) -> tuple[StateMessage | None, ResultMessage | None]:
    """The session's state and result messages as the database has them (None, None: no such session)."""
    session = Session.objects.filter(id=session_id).defer("icao_jpeg").select_related("account").first()
    if session is None:
        return None, None
    return session_state_message(session=session), session_result_message(session=session)


def result_key(message: dict[str, Any]) -> tuple[Any, ...]:
    """What makes two result messages the same result (a redirect URL is signed afresh each time it is built)."""
    return message.get("verdict"), message.get("verificationResult"), tuple(message.get("reasons") or ())


class ResultWatch:
    """Mixed into the capture socket: ``session_id``, ``gen`` (None once a result arrived), ``status`` and
    ``closed`` are the socket's; ``capture_message`` handles a state or result as if the layer brought it."""

    session_id: str
    gen: str | None
    status: str
    closed: bool
    result_watch: str | None

    if TYPE_CHECKING:

        def _spawn(self, coro: Coroutine[Any, Any, None]) -> None: ...

        async def capture_message(self, event: dict[str, Any]) -> None: ...

    def _watch_result(self) -> None:
        """The current attempt's capture is complete: watch the database until its result reached the socket."""
        if self.gen is None or self.result_watch == self.gen:
            return
        self.result_watch = self.gen
        self._spawn(self._result_watch(self.gen))

    async def _result_watch(self, gen: str) -> None:
        interval = float(settings.CAPTURE_RESULT_CHECK_SECONDS)
        try:
            while not self.closed and self.gen == gen:
                await asyncio.sleep(interval)
                if self.closed or self.gen != gen:
                    return  # the result came (it clears gen), the attempt restarted, or the socket closed
                try:
                    state, result = await database_sync_to_async(_stored)(self.session_id)
                except Exception:  # the database is out of reach: try again next time
                    logger.warning("Could not read session %s for its result", self.session_id, exc_info=True)
                    continue
                if state is None or self.closed or self.gen != gen:
                    return
                if state["status"] == Session.Status.ANALYSING and self.status != state["status"]:
                    # As the verdict would have said it; a finished session's result says the rest on its own.
                    RESULTS_FROM_DATABASE.labels(message="state").inc()
                    await self.capture_message({"type": "capture.message", "message": state})
                if result is not None:
                    RESULTS_FROM_DATABASE.labels(message="result").inc()
                    await self.capture_message({"type": "capture.message", "message": result})
        finally:
            if self.result_watch == gen:
                self.result_watch = None
