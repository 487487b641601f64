"""Django's ASGI handler, running each HTTP request in one hop to a pooled thread.

Every middleware here has synchronous hooks (Django's own, whitenoise, csp, axes) and the API's views are
synchronous (DRF). Django's own handler, built in async mode, ran each ``MiddlewareMixin`` hook through
``sync_to_async`` and back (about 22 thread hand-offs a request), and even with the chain built in sync mode it
started a new thread for every request (``ThreadSensitiveContext``), sent the ``request_started`` and
``request_finished`` signals through hops of their own and ran a task listening for the client's disconnect,
which a synchronous view cannot act on. Here the request's body is read on the event loop, then the whole
request (the signals, the middleware chain, the view, ``response.close()``) runs in one call on a thread of a
fixed pool of ``WEB_THREADS`` (asgiref's ``sync_to_async`` with an executor: the request sees the loop's context,
and ``async_to_sync`` in it runs on the server's loop, where the in-memory channel layer lives), as under a
threaded WSGI server. A streaming response is sent from that thread, so that it is closed on the thread that made
it (the database connection Django closes on ``request_finished`` is that thread's). An ``async def`` view is still
awaited, from its request's thread, which comes from a second pool of the same size: its thread mostly waits.
"""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

from asgiref.sync import async_to_sync, iscoroutinefunction, sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse, HttpResponseBase, StreamingHttpResponse
from django.urls import get_resolver, set_script_prefix

from .resolve import RememberedResolveMixin, resolved

_executors: dict[str, ThreadPoolExecutor] = {}
_executors_lock = threading.Lock()


def _request_threads(name: str) -> ThreadPoolExecutor:
    """``http``: every request but those of async views; ``http-async``: those, whose thread mostly waits (a 004
    submission while its video is analysed), so that a burst of them never holds up the API or the probes."""
    with _executors_lock:
        if name not in _executors:
            _executors[name] = ThreadPoolExecutor(max_workers=settings.WEB_THREADS, thread_name_prefix=name)
        return _executors[name]


def _async_view(path_info: str) -> bool:
    """Whether ``path_info`` resolves to an ``async def`` view."""
    try:
        return iscoroutinefunction(resolved(get_resolver(), path_info).func)
    except Exception:  # Resolver404 or anything else: Django answers it in the chain, as it would have
        return False


class SyncChainASGIHandler(RememberedResolveMixin, ASGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        scope = _with_body_length(scope, body_file)
        script_name = get_script_prefix(scope)
        path_info = scope["path"].removeprefix(script_name) if script_name else scope["path"]
        threads = _request_threads("http-async" if _async_view(path_info) else "http")
        try:
            response = await sync_to_async(self._respond, thread_sensitive=False, executor=threads)(
                scope, body_file, send
            )
            if response is not None:
                await self.send_response(response, send)
        finally:
            body_file.close()

    def _respond(self, scope: dict[str, Any], body_file: Any, send: Any) -> HttpResponseBase | None:
        """The request, on its thread: the response to send, or None when it was sent here (a streaming one)."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.get_response(request)
            response._handler_class = self.__class__  # type: ignore[attr-defined]
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        assert response is not None
        if not response.streaming:
            response.close()  # request_finished: this thread's database connection goes back to its pool
            return response
        assert isinstance(response, StreamingHttpResponse)
        try:
            if not response.is_async:
                # Django's send_response would read a synchronous iterator into one list first (a whole file):
                # read it here, a chunk at a time.
                response.streaming_content = _chunks(iter(cast(Iterator[bytes], response.streaming_content)))
            async_to_sync(self.send_response)(response, send)
        finally:
            response.close()
        return None


def _with_body_length(scope: dict[str, Any], body_file: Any) -> dict[str, Any]:
    """``scope`` with the length of the body read, when the client sent it chunked (``Transfer-Encoding``, no
    ``Content-Length``). The server has de-chunked it, but Django and DRF look for a body only when there is a
    Content-Length: without one a chunked JSON or multipart body read as empty (on every server)."""
    headers = scope.get("headers") or ()
    if not any(name.lower() == b"transfer-encoding" for name, _ in headers) or any(
        name.lower() == b"content-length" for name, _ in headers
    ):
        return scope
    length = body_file.seek(0, os.SEEK_END)
    body_file.seek(0)
    kept = [(name, value) for name, value in headers if name.lower() != b"transfer-encoding"]
    return {**scope, "headers": [*kept, (b"content-length", str(length).encode())]}


async def _chunks(iterator: Iterator[bytes]) -> AsyncIterator[bytes]:
    """A synchronous iterator's items, each read on the thread that awaits this (the request's)."""

    def read() -> bytes | None:
        return next(iterator, None)

    while (chunk := await sync_to_async(read, thread_sensitive=True)()) is not None:
        yield chunk
