"""Django over WSGI, for the API process (``python -m config.serve_api``: granian, HTTP only).

The web process serves HTTP and the capture sockets over ASGI (``apps.core.asgi``), where each request costs a hop
from the event loop to a pooled thread and back. The API process has no socket to serve, so granian runs Django's
WSGI handler on its own threads (``API_THREADS`` of them) and the hop is gone: 11-24 % of get-session-result's
server CPU (docs/benchmarks.md, "The API process over WSGI"). What the ASGI path does around Django is done here
the same way, so both processes answer alike (tests/core/test_api_process.py):

* the client's address is the one our proxies saw (``apps.core.client_address``), in ``REMOTE_ADDR``;
* a chunked body (``Transfer-Encoding``, no ``Content-Length``), which the server has de-chunked, gets its length:
  Django reads a body only as far as ``CONTENT_LENGTH`` says, so without one it read as empty;
* the URL is resolved once per path (``apps.core.resolve``).

An ``async def`` view (004's submission) runs as Django runs one under WSGI: on its own event loop, on the
request's thread, which waits for it (so the load balancer sends ``/verif/submit`` to the web process).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler

from .client_address import trusted_client
from .resolve import RememberedResolveMixin

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]
_CHUNK = 64 * 1024


class APIWSGIHandler(RememberedResolveMixin, WSGIHandler):
    """Django's WSGI handler, with the match remembered per path."""


def _with_body_length(environ: Environ) -> None:
    """A chunked body read into a spooled file, its length in ``CONTENT_LENGTH`` (``environ`` is the request's own)."""
    if "HTTP_TRANSFER_ENCODING" not in environ or environ.get("CONTENT_LENGTH"):
        return
    body = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)
    source = environ["wsgi.input"]
    while chunk := source.read(_CHUNK):
        body.write(chunk)
    environ["CONTENT_LENGTH"] = str(body.tell())
    body.seek(0)
    environ["wsgi.input"] = body
    del environ["HTTP_TRANSFER_ENCODING"]


class APIWSGIMiddleware:
    """The client's address and a chunked body's length, before Django sees the request."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        forwarded = environ.get("HTTP_X_FORWARDED_FOR")
        host = trusted_client(environ.get("REMOTE_ADDR") or None, [forwarded] if forwarded else [])
        if host is not None:
            environ["REMOTE_ADDR"] = host
        _with_body_length(environ)
        return self.app(environ, start_response)


def application_build() -> WSGIApp:
    """The API process's WSGI application (after ``django.setup()``)."""
    return APIWSGIMiddleware(APIWSGIHandler())
