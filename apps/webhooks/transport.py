"""The guarded HTTP client for webhook deliveries.

It connects to an address that passed the SSRF check (never re-resolving the
name), sends Host and TLS SNI for the real hostname, never follows redirects,
ignores proxy environment variables, and enforces one deadline for the whole
exchange: a receiver that trickles bytes cannot hold a worker past it.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass

from .ssrf import Target


@dataclass(frozen=True)
class HttpOutcome:
    """What one request achieved: a status code, or an error, and how long it took."""

    status_code: int | None
    error: str
    excerpt: str
    duration_ms: int


class _ConnectTimeoutError(TimeoutError):
    """The address did not accept the connection in its share of the deadline; the next address may."""


def _connect(address: str, port: int, connect_timeout: float, timeout: float | None) -> socket.socket:
    try:
        sock = socket.create_connection((address, port), connect_timeout)
    except TimeoutError as exc:
        raise _ConnectTimeoutError(f"connect to {address} timed out") from exc
    sock.settimeout(timeout)
    return sock


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float, connect_timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address
        self._connect_timeout = connect_timeout

    def connect(self) -> None:
        self.sock = _connect(self._address, self.port, self._connect_timeout, self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(
        self, host: str, port: int, *, address: str, timeout: float, connect_timeout: float, cafile: str | None
    ) -> None:
        self._ssl_context = ssl.create_default_context(cafile=cafile)
        super().__init__(host, port, timeout=timeout, context=self._ssl_context)
        self._address = address
        self._connect_timeout = connect_timeout

    def connect(self) -> None:
        raw = _connect(self._address, self.port, self._connect_timeout, self.timeout)
        # SNI and certificate checks use the hostname; the TCP peer is the checked address.
        self.sock = self._ssl_context.wrap_socket(raw, server_hostname=self.host)


def _abort(conn: http.client.HTTPConnection, fired: threading.Event) -> None:
    fired.set()
    sock = conn.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _post_once(
    target: Target,
    address: str,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
    connect_timeout: float,
    excerpt_bytes: int,
    cafile: str | None,
) -> tuple[int, str]:
    conn: http.client.HTTPConnection
    if target.scheme == "https":
        conn = _PinnedHTTPSConnection(
            target.host, target.port, address=address, timeout=timeout, connect_timeout=connect_timeout, cafile=cafile
        )
    else:
        conn = _PinnedHTTPConnection(
            target.host, target.port, address=address, timeout=timeout, connect_timeout=connect_timeout
        )
    fired = threading.Event()
    watchdog = threading.Timer(timeout, _abort, args=(conn, fired))
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.request("POST", target.path, body=body, headers=headers)
        response = conn.getresponse()
        excerpt = response.read(excerpt_bytes)
        if fired.is_set():
            # The answer did not finish in time: a trickling receiver counts as a timeout, whatever its status.
            raise TimeoutError(f"timed out after {timeout:g} s")
        # PostgreSQL text cannot hold NUL; a binary answer must not make the attempt unrecordable.
        return response.status, excerpt.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    except (OSError, http.client.HTTPException) as exc:
        if fired.is_set():
            raise TimeoutError(f"timed out after {timeout:g} s") from exc
        raise
    finally:
        watchdog.cancel()
        conn.close()


def post_json(
    *,
    target: Target,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
    excerpt_bytes: int,
    cafile: str | None = None,
) -> HttpOutcome:
    """POST ``body`` to the first reachable checked address of ``target``; never raises for network trouble.

    One deadline covers every address. An address that does not accept the connection (a dropped route, a dead
    IPv6 path) may use only its share of what is left, so the next address still gets a turn.
    ``cafile`` replaces the system CA store (WEBHOOK_CA_BUNDLE), e.g. for a private CA.
    """
    started = time.monotonic()
    error = ""
    for index, address in enumerate(target.addresses):
        remaining = timeout - (time.monotonic() - started)
        if remaining <= 0:
            error = f"timed out after {timeout:g} s"
            break
        share = remaining / (len(target.addresses) - index)
        try:
            status, excerpt = _post_once(target, address, body, headers, remaining, share, excerpt_bytes, cafile)
        except _ConnectTimeoutError as exc:
            error = f"{exc} (timed out after {timeout:g} s)"
            continue
        except TimeoutError as exc:
            error = str(exc) if "timed out" in str(exc) else f"timed out after {timeout:g} s"
            break  # the deadline covers all addresses; do not start another connection
        except ssl.SSLError as exc:
            error = f"TLS error: {exc.reason or exc}"
            continue
        except (OSError, http.client.HTTPException) as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            continue
        return HttpOutcome(status, "", excerpt, int((time.monotonic() - started) * 1000))
    return HttpOutcome(None, error[:500], "", int((time.monotonic() - started) * 1000))
