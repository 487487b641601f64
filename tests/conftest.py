"""Shared fixtures: accounts, keys, authenticated API clients, and service guards."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import hypothesis
import pytest
from django.conf import settings
from rest_framework.test import APIClient

from apps.accounts.models import Account
from apps.accounts.services import api_key_create
from tests.catalogues import catalogues_compile

pytest_plugins = ["tests.loop_teardown"]

REQUIRE_SERVICES = os.environ.get("LIVEPROOF_REQUIRE_SERVICES") == "1"

# CI replays the same examples on every run (a gate must not fail on a draw it never saw
# before); local runs keep exploring new ones and remember what failed.
hypothesis.settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if REQUIRE_SERVICES:
    hypothesis.settings.load_profile("ci")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """pytest-django's test databases; PostgreSQL's connection pool closed before they are dropped.

    The pool (``DATABASE_POOL_SIZE``) keeps its connections open: left so, they stop the test
    database from being dropped at the end of the run."""
    yield
    from django.db import connections

    with django_db_blocker.unblock():
        for connection in connections.all(initialized_only=True):
            close_pool = getattr(connection, "close_pool", None)
            if close_pool is not None:
                close_pool()


def _close_old_connections_off_the_main_thread() -> None:
    """Django's ``close_old_connections``, except on the main thread (a test's own connection, maybe in its
    transaction)."""
    from django.db import close_old_connections

    if threading.current_thread() is not threading.main_thread():
        close_old_connections()


@pytest.fixture(scope="session", autouse=True)
def _socket_calls_close_their_connections() -> Iterator[None]:
    """Channels' test communicator turns ``database_sync_to_async``'s connection clean-up into a no-op while a
    test sends to a consumer or waits for its output (``channels.testing.application``: it keeps the main
    thread's test transaction, where Django's own test cases run a consumer's calls). Our async tests run
    those calls on asgiref's and the loop's executor threads, never the main thread, and there the no-op kept
    each thread's pooled connection out of the pool: a worker held up to five of its eight, and the last one
    kept the test database from being dropped at the end of the run. With this, a consumer's calls close
    their connections as they do under daphne, and the main thread's is left alone as channels intends."""
    from channels.testing import application as communicator

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(communicator, "no_op", _close_old_connections_off_the_main_thread)
        yield


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # once, in the controller, before any xdist worker starts
        catalogues_compile()


def require_redis() -> str:
    """The Redis URL; skips locally when Redis is absent, fails when CI requires it."""
    url = settings.REDIS_URL or os.environ.get("REDIS_URL", "")
    if url:
        try:
            import redis

            redis.Redis.from_url(url, socket_connect_timeout=1).ping()
            return url
        except Exception as exc:
            if REQUIRE_SERVICES:
                pytest.fail(f"Redis is required here but unreachable: {exc}")
    if REQUIRE_SERVICES:
        pytest.fail("Redis is required here (LIVEPROOF_REQUIRE_SERVICES=1) but REDIS_URL is not set")
    pytest.skip("needs Redis: set REDIS_URL")
    raise AssertionError  # unreachable


def require_postgres() -> None:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        if REQUIRE_SERVICES:
            pytest.fail("PostgreSQL is required here (LIVEPROOF_REQUIRE_SERVICES=1) but DATABASE_URL is not PostgreSQL")
        pytest.skip("needs PostgreSQL: set DATABASE_URL")


@pytest.fixture(scope="session", autouse=True)
def _services_are_what_ci_says() -> None:
    """In CI the whole suite must run on PostgreSQL and Redis, never silently on SQLite."""
    if REQUIRE_SERVICES:
        assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
        assert settings.REDIS_URL


# Names kept for documentation and tests (RFC 2606, RFC 6761); the examples' webhook and redirect URLs use them.
_RESERVED_TLDS = ("test", "example", "invalid")
_RESERVED_DOMAINS = ("example.com", "example.net", "example.org")


def is_reserved_name(host: str) -> bool:
    name = host.rstrip(".").lower()
    return name.rsplit(".", 1)[-1] in _RESERVED_TLDS or any(
        name == domain or name.endswith("." + domain) for domain in _RESERVED_DOMAINS
    )


@pytest.fixture(scope="session", autouse=True)
def _reserved_names_do_not_resolve() -> Iterator[None]:
    """Reserved names answer "not known" at once, as the resolver here answers them, without asking it.

    Asking costs nothing most of the time, but about one query in 25 is dropped and waits out the resolver's
    5 s timeout: the webhook URL check then gives up after its own 3 s, and a test takes 3 s longer at random.
    """
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if isinstance(name, str) and is_reserved_name(name):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "getaddrinfo", getaddrinfo)
        yield


@dataclass
class Integrator:
    account: Account
    key: str
    client: APIClient


def make_integrator(name: str) -> Integrator:
    account = Account.objects.create(name=name)
    key = api_key_create(account=account, name="test").plaintext
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"ApiKey {key}")
    return Integrator(account=account, key=key, client=client)


@pytest.fixture
def integrator(db: None) -> Integrator:
    return make_integrator("Acme")


@pytest.fixture
def other_integrator(db: None) -> Integrator:
    return make_integrator("Globex")


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()


@pytest.fixture(autouse=True)
def _a_channel_layer_per_test() -> Iterator[None]:
    """Each test gets channel-layer instances of its own, closed afterwards.

    channels keeps one layer instance per process, and channels-redis keeps per-instance receive state
    (a lock, a count, buffers) that belongs to the event loop that made it. A server has one loop; each
    async test has a loop of its own, so a consumer left behind by one test could lock the next one out
    ("bound to a different event loop") or hang its teardown.
    """
    from channels.layers import channel_layers

    channel_layers.backends = {}
    yield
    layers, channel_layers.backends = channel_layers.backends, {}
    for layer in layers.values():
        _close_publisher_connections(layer)


def _close_publisher_connections(layer: Any) -> None:
    """Close the connections the worker-side notifier opened for ``layer`` on its long-lived loop."""
    import asyncio

    from apps.sessions import notifier

    loop = notifier._loop
    per_loop = getattr(layer, "_layers", None)
    if loop is None or loop.is_closed() or not per_loop or loop not in per_loop:
        return
    asyncio.run_coroutine_threadsafe(per_loop.pop(loop).flush(), loop).result(timeout=5)
