"""The guarded webhook client on real sockets: a host with several addresses, one of them dead."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apps.webhooks.ssrf import Target
from apps.webhooks.transport import post_json


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def blackhole(receiver: int) -> Iterator[str]:
    """127.0.0.2 on the receiver's port, a listener whose backlog is full: a connect there hangs (SYNs dropped),
    as it does towards an address that a firewall drops."""
    listener = socket.socket()
    listener.bind(("127.0.0.2", receiver))
    listener.listen(0)
    queued = []
    for _ in range(4):
        stuck = socket.socket()
        stuck.setblocking(False)
        stuck.connect_ex(("127.0.0.2", receiver))
        queued.append(stuck)
    time.sleep(0.2)
    with pytest.raises(TimeoutError):
        socket.create_connection(("127.0.0.2", receiver), 0.3)
    yield "127.0.0.2"
    for sock in (*queued, listener):
        sock.close()


def test_an_address_that_does_not_answer_a_connect_leaves_time_for_the_next(receiver: int, blackhole: str):
    target = Target("http", "hooks.example.com", receiver, "/hook", (blackhole, "127.0.0.1"))
    started = time.monotonic()
    outcome = post_json(target=target, body=b"{}", headers={"Content-Type": "application/json"}, timeout=4.0,
                        excerpt_bytes=100)  # fmt: skip
    assert outcome.status_code == 204, outcome
    assert time.monotonic() - started < 3.5  # the dead address had part of the deadline, not all of it


def test_the_deadline_still_covers_every_address(receiver: int, blackhole: str):
    target = Target("http", "hooks.example.com", receiver, "/hook", (blackhole, blackhole))
    started = time.monotonic()
    outcome = post_json(target=target, body=b"{}", headers={}, timeout=1.0, excerpt_bytes=100)
    assert outcome.status_code is None and "timed out" in outcome.error
    assert time.monotonic() - started < 1.5
