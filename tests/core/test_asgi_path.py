"""What an HTTP request costs on the ASGI path besides its own work: thread hand-offs, Redis and PostgreSQL connections.

Measured before these changes (bench/api.py, docs/benchmarks.md): Django's async-mode middleware chain handed
each request between the event loop and a thread 22 times; every request, in a thread of its own, opened a new
Redis connection (the cache is per thread) and a new PostgreSQL connection (so is Django's connection).
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest
from asgiref import sync
from django.conf import settings
from django.core import signals
from django.core.cache import caches
from django.db import connection

from apps.core.asgi import SyncChainASGIHandler
from apps.core.wsgi import APIWSGIHandler
from config.asgi import application
from tests.conftest import make_integrator, require_postgres, require_redis


async def _asgi_request(
    method: str,
    path: str,
    query: str = "",
    headers: list[tuple[bytes, bytes]] | None = None,
    sent: list[dict[str, Any]] | None = None,
):
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"testserver"), *(headers or [])],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    messages = [{"type": "http.request", "body": b"", "more_body": False}]
    sent = [] if sent is None else sent

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await application(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body


def _hand_offs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every loop-to-thread (SyncToAsync) and thread-to-loop (AsyncToSync) call from now on."""
    calls: list[str] = []
    for cls in (sync.SyncToAsync, sync.AsyncToSync):
        original = cls.__call__

        def counted(self: Any, *args: Any, _original: Any = original, _name: str = cls.__name__, **kwargs: Any) -> Any:
            calls.append(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "__call__", counted)
    return calls


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/v1/healthz", 200),
        # An async view (004's submission endpoint) is still awaited from the synchronous chain.
        ("GET", "/verif/submit", 405),
    ],
)
def test_a_request_is_handed_between_loop_and_thread_a_few_times_not_once_per_middleware(
    monkeypatch, method, path, expected
):
    asyncio.run(_asgi_request(method, path))  # URLconf, middleware and imports loaded outside the count
    calls = _hand_offs(monkeypatch)
    status, _ = asyncio.run(_asgi_request(method, path))
    assert status == expected
    # The whole request in one hop to a thread (apps/core/asgi.py); an async view adds its own way back to the
    # loop. Built in async mode the chain alone made 22; Django's handler around a sync chain made 5.
    assert calls == (["SyncToAsync"] if path == "/v1/healthz" else ["SyncToAsync", "AsyncToSync"]), calls


def test_requests_run_on_a_fixed_pool_of_threads_and_async_code_in_them_runs_on_the_servers_loop(monkeypatch):
    """Django's handler started a new thread for every request; and ``async_to_sync`` inside a request must reach
    the server's own loop, where the embedded mode's in-memory channel layer lives (apps/sessions/notifier.py)."""
    seen: list[tuple[str, int, asyncio.AbstractEventLoop]] = []

    async def running_loop() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    def on_request_started(**kwargs: Any) -> None:
        thread = threading.current_thread()
        seen.append((thread.name, thread.ident or 0, sync.async_to_sync(running_loop)()))

    async def requests(count: int) -> asyncio.AbstractEventLoop:
        for _ in range(count):
            assert (await _asgi_request("GET", "/v1/healthz"))[0] == 200
        return asyncio.get_running_loop()

    signals.request_started.connect(on_request_started)
    try:
        server_loop = asyncio.run(requests(20))
    finally:
        signals.request_started.disconnect(on_request_started)
    assert len(seen) == 20
    assert all(name.startswith("http") and ident != threading.main_thread().ident for name, ident, _ in seen)
    # Threads of one pool, named http_0 ... http_<WEB_THREADS - 1> (a request that starts while the last one's thread
    # is still winding down may take another of them), not a new thread per request.
    assert len({name for name, _, _ in seen}) <= settings.WEB_THREADS < 20
    assert all(loop is server_loop for _, _, loop in seen)


def test_a_streaming_response_is_sent_and_closed_on_its_requests_thread(monkeypatch):
    """A streaming response (whitenoise's static files are FileResponses) is sent whole, a chunk at a time, and
    ``request_finished`` comes on the thread that handled the request, whose database connection Django then
    closes."""
    monkeypatch.setattr(SyncChainASGIHandler, "chunk_size", 4096)
    sent: list[dict[str, Any]] = []
    started: list[int] = []
    finished: list[int] = []

    def on_started(**kwargs: Any) -> None:
        started.append(threading.get_ident())

    def on_finished(**kwargs: Any) -> None:
        finished.append(threading.get_ident())

    signals.request_started.connect(on_started)
    signals.request_finished.connect(on_finished)
    try:
        status, body = asyncio.run(_asgi_request("GET", "/static/capture/session.js", sent=sent))
    finally:
        signals.request_started.disconnect(on_started)
        signals.request_finished.disconnect(on_finished)
    assert status == 200
    script = (Path(settings.BASE_DIR) / "static" / "capture" / "session.js").read_bytes()
    assert body == script
    chunks = [m["body"] for m in sent if m["type"] == "http.response.body" and m.get("body")]
    assert len(script) > 3 * 4096 and len(chunks) >= 3 and max(map(len, chunks)) <= 4096
    assert len(started) == 1
    assert finished == started


def test_every_thread_uses_one_redis_client_and_its_pool():
    require_redis()
    clients = []

    def client_of_this_thread() -> None:
        cache = caches["default"]  # one backend object per thread
        clients.append((cache, cache._cache.get_client(write=True)))

    threads = [threading.Thread(target=client_of_this_thread) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(backend) for backend, _ in clients}) == 4  # all alive: ids are distinct
    assert len({id(client) for _, client in clients}) == 1


@pytest.mark.django_db(transaction=True)
def test_api_requests_in_threads_of_their_own_reuse_pooled_database_connections():
    require_postgres()
    assert settings.DATABASES["default"]["OPTIONS"]["pool"]["max_size"] == settings.DATABASE_POOL_SIZE
    integrator = make_integrator("Pool")
    auth = [(b"authorization", f"ApiKey {integrator.key}".encode())]
    path = "/v1/verification/get-session-result"
    query = "verificationSessionId=00000000-0000-0000-0000-000000000000"
    status, _ = asyncio.run(_asgi_request("GET", path, query, auth))
    assert status == 404  # authenticated (one query for the key), then no such session (another)
    opened = connection.pool.get_stats()["connections_num"]
    for _ in range(10):
        assert asyncio.run(_asgi_request("GET", path, query, auth))[0] == 404
    assert connection.pool.get_stats()["connections_num"] - opened <= 1


def test_async_views_run_on_a_pool_of_their_own_so_a_burst_of_them_never_holds_up_other_requests():
    """An async view's thread mostly waits (a 004 submission while its video is analysed): with every request on
    one pool of WEB_THREADS, a burst of submissions would hold up the API and the probes until they ended."""
    threads: list[str] = []

    def on_request_started(**kwargs: Any) -> None:
        threads.append(threading.current_thread().name)

    signals.request_started.connect(on_request_started)
    try:
        assert asyncio.run(_asgi_request("GET", "/verif/submit"))[0] == 405  # 004's submission view is async
        assert asyncio.run(_asgi_request("GET", "/v1/healthz"))[0] == 200
        assert asyncio.run(_asgi_request("GET", "/no/such/page"))[0] == 404
    finally:
        signals.request_started.disconnect(on_request_started)
    assert [name.rsplit("_", 1)[0] for name in threads] == ["http-async", "http", "http"]


def test_a_path_is_resolved_once_not_on_every_request_and_a_new_urlconf_is_followed(monkeypatch, settings):
    """Resolving walked every URL pattern before the match, building Django's list of the patterns tried at each
    one that failed, twice a request (the handler's choice of thread pool, then Django): about 8 % of an API
    request's CPU. A path is now resolved once; one that does not resolve is answered 404 each time."""
    from django.urls.resolvers import URLResolver

    resolved: list[str] = []
    original = URLResolver.resolve

    def counted(self: URLResolver, path: str) -> Any:
        if self.pattern.regex.pattern == "^/":  # the root resolver: once per resolution
            resolved.append(path)
        return original(self, path)

    monkeypatch.setattr(URLResolver, "resolve", counted)
    unknown, api = f"/no-such-page-{threading.get_ident()}", "/v1/verification/get-all"
    for _ in range(3):
        assert asyncio.run(_asgi_request("GET", api))[0] == 401  # resolved to its view, which wants a key
        assert asyncio.run(_asgi_request("GET", unknown))[0] == 404
    assert resolved.count(api) <= 1
    assert resolved.count(unknown) >= 3 * 2  # never kept: each request resolves it (the pool's choice, Django)
    # Another ROOT_URLCONF is another resolver: its own patterns, not the cached match (here, none: a 404).
    settings.ROOT_URLCONF = "tests.core.empty_urls"
    assert asyncio.run(_asgi_request("GET", api))[0] == 404


@pytest.mark.parametrize("handler_class", [SyncChainASGIHandler, APIWSGIHandler])
def test_each_request_gets_its_own_match_and_keyword_arguments(handler_class):
    """The remembered match is shared by every request on its path; what a request is handed is its own. The API
    process's WSGI handler remembers it the same way."""
    from django.http import HttpRequest

    handler = handler_class()
    path = "/brand/logo/" + "ab" * 32
    first, second = HttpRequest(), HttpRequest()
    first.path_info = second.path_info = path
    one = handler.resolve_request(first)
    one.kwargs["logo_id"] = "changed by a middleware"
    two = handler.resolve_request(second)
    assert two.kwargs == {"logo_id": "ab" * 32} and two is not one
    assert (
        (two.url_name, two.func, two.route)
        == (one.url_name, one.func, one.route)
        == ("brand-logo", two.func, two.route)
    )
    assert second.resolver_match is two
