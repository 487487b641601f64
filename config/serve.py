"""``python -m config.serve [daphne options]``: the web process, daphne with the limits this service needs.

Daphne's own command line caps a WebSocket message at 1 MiB and drops a larger
one without a close frame: below the documented 1.5 MB frame limit
(``CAPTURE_MAX_FRAME_BYTES``), so a legal frame killed the capture. Here the
cap is ``WEBSOCKET_MAX_MESSAGE_BYTES``, above the frame limit, so a frame over
the limit reaches the consumer and is answered with ``frameTooLarge`` and close
1009; a message over the cap itself gets a 1009 close frame, not a dropped
connection. Options given on the command line win (argparse keeps the last).
"""

from __future__ import annotations

import daphne.server  # isort:skip  (installs Twisted's asyncio reactor: must come before anything imports Twisted)

import os
import sys
from typing import Any

from daphne.cli import CommandLineInterface
from daphne.http_protocol import HTTPFactory, WebRequest
from daphne.ws_protocol import WebSocketProtocol

APPLICATION = "config.asgi:application"
# RFC 6455 codes an endpoint may send that autobahn's sendClose() refuses (it allows only 1000 and 3000-4999).
PROTOCOL_CLOSE_CODES = frozenset({1001, 1008, 1009, 1011})


class CaptureWebSocketProtocol(WebSocketProtocol):
    """Daphne's WebSocket protocol, able to send the documented close 1009 (message too big)."""

    def serverClose(self, code: int | None = None) -> None:  # noqa: N802 - daphne's name
        if code in PROTOCOL_CLOSE_CODES:
            self.sendCloseFrame(code=code, isReply=False)
        else:
            super().serverClose(code)


class BodyRequest(WebRequest):
    """Daphne's HTTP request, handing the body to the app as sent (a chunked one: apps/core/asgi.py)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Twisted parses multipart bodies itself (daphne never reads the result) and answers a malformed one with
        # a bare 400 and no body before the app sees it; Django parses them, into the API's error shape.
        super().__init__(*args, parsePOSTFormSubmission=False, **kwargs)


class BodyHTTPFactory(HTTPFactory):
    def buildProtocol(self, addr: Any) -> Any:  # noqa: N802 - Twisted's name
        protocol = super().buildProtocol(addr)
        if protocol is not None:
            protocol.requestFactory = BodyRequest
        return protocol


class LiveproofServer(daphne.server.Server):
    """Daphne's server with :class:`BodyRequest`, :class:`CaptureWebSocketProtocol` and a close frame for
    over-cap messages."""

    # Daphne builds both factories inside run(), which then blocks in the reactor; they are only used once a
    # connection arrives, so replacing or adjusting them as they are assigned takes effect before any request.
    @property
    def http_factory(self) -> Any:
        return self._http_factory

    @http_factory.setter
    def http_factory(self, factory: Any) -> None:
        self._http_factory = BodyHTTPFactory(self)

    @property
    def ws_factory(self) -> Any:
        return self._ws_factory

    @ws_factory.setter
    def ws_factory(self, factory: Any) -> None:
        factory.protocol = CaptureWebSocketProtocol
        # Autobahn's default for a server drops the TCP connection on a protocol error (an over-cap message):
        # the client would see no close code at all.
        factory.setProtocolOptions(failByDrop=False)
        self._ws_factory = factory


class LiveproofCommandLine(CommandLineInterface):
    server_class = LiveproofServer


def daphne_arguments(argv: list[str]) -> list[str]:
    """Daphne's command line: our limits first (so ``argv`` may override them), then ``argv``, then the app.

    ``--proxy-headers`` is ours, not daphne's: daphne would trust the left-most X-Forwarded-For entry, which the
    client writes (apps/core/client_address.py reads the one our proxy appended).
    """
    if "--proxy-headers" in argv:
        os.environ["PROXY_HEADERS"] = "true"
        argv = [arg for arg in argv if arg != "--proxy-headers"]
    from django.conf import settings

    size = str(int(settings.WEBSOCKET_MAX_MESSAGE_BYTES))
    limits = ["--websocket-max-message-size", size, "--websocket-max-frame-size", size]
    return [*limits, *argv, APPLICATION]


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    LiveproofCommandLine().run(daphne_arguments(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    main()
