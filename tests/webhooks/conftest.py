"""A real HTTP receiver on 127.0.0.1 and the test-only outbound settings it needs."""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

SESSION_RESULT = {
    "verificationSessionId": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
    "verificationResult": "Pass",
    "verificationFailedReasons": [],
    "livenessVerificationResult": "Pass",
    "ageVerificationResult": "Pass",
    "estimatedAge": 30.5,
    "genderVerificationResult": "Pass",
    "estimatedGender": "Male",
    "faceRecognitionResult": "Pass",
    "faceId": "face-uuid-here",
    "correlationId": "corr-uuid-here",
    "totalFaceCount": 1,
    "customInputParameters": {"userId": "user123"},
}


@dataclass
class Reply:
    """How the receiver answers one request."""

    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b'{"received":true}'
    drip: float = 0.0  # seconds between body bytes: a receiver that never quite finishes
    block: threading.Event | None = None  # hold the request until the test sets it


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


class Receiver:
    """Records every POST and answers from a script of replies (then ``default``)."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[Received] = []
        self.script: list[Reply] = []
        self.default = Reply()
        self.arrived = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    receiver.requests.append(Received(self.path, dict(self.headers.items()), body, time.monotonic()))
                    reply = receiver.script.pop(0) if receiver.script else receiver.default
                receiver.arrived.set()
                try:
                    self._answer(reply)
                except OSError:
                    pass  # the client gave up (timeout) or died

            def _answer(self, reply: Reply) -> None:
                if reply.block is not None:
                    reply.block.wait(30)
                time.sleep(reply.delay)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.drip:
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    for _ in range(100000):
                        self.wfile.write(b".")
                        self.wfile.flush()
                        time.sleep(reply.drip)
                    return
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.handle_error = lambda request, address: None  # refused TLS handshakes are expected
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _account_secrets() -> list[str]:
    from apps.webhooks.models import WebhookSecret

    return [s for row in WebhookSecret.objects.all() for s in (row.secret, row.previous_secret) if s]


def assert_every_request_verifies(receiver: Receiver) -> None:
    """Each request the receiver got must pass the official package's check with one of the accounts' secrets."""
    from standardwebhooks import Webhook
    from standardwebhooks.webhooks import WebhookVerificationError

    secrets = _account_secrets()
    for received in receiver.requests:
        verified = False
        for secret in secrets:
            try:
                Webhook(secret).verify(received.body, received.headers)
            except WebhookVerificationError:
                continue
            verified = True
            break
        assert verified, f"a delivery to {received.path} fails Standard Webhooks verification: {received.headers}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A receiver whose every request is verified with ``standardwebhooks`` when the test ends."""
    r = Receiver()
    yield r
    r.close()
    assert_every_request_verifies(r)


def tls_context(tmp_path: Path, name: str) -> tuple[ssl.SSLContext, Path]:
    """A server context with a fresh self-signed certificate for ``name``, and the certificate file."""
    key, cert = tmp_path / f"{name}.key", tmp_path / f"{name}.pem"
    command = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    command += ["-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", f"/CN={name}"]
    command += ["-addext", f"subjectAltName=DNS:{name}"]
    subprocess.run(command, check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context, cert


@pytest.fixture
def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


@pytest.fixture(autouse=True)
def _outbound_to_local_receivers(settings: Any) -> None:
    """Test-only: reach receivers on 127.0.0.1 over http, with a short timeout."""
    settings.ALLOW_HTTP_OUTBOUND = True
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    settings.WEBHOOK_TIMEOUT_SECONDS = 1.0
