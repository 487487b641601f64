"""Test settings: the base settings plus fast hashing and local outbound HTTP."""

from __future__ import annotations

import os
from unittest import mock
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured

REDIS_DATABASES = 16  # Redis's default `databases`


def xdist_redis_url(url: str, worker: str) -> str:
    """``url`` moved to the Redis database of its number plus the pytest-xdist worker's index (gw0, gw1...).

    Workers running side by side would otherwise share one broker, result store, channel layer and
    cache: a Celery worker started by one test would take another's tasks, a ping would answer both.
    """
    parts = urlsplit(url)
    if not worker.startswith("gw") or parts.scheme not in ("redis", "rediss"):
        return url
    base = int(parts.path.strip("/") or 0)
    db = base + int(worker.removeprefix("gw"))
    if db >= REDIS_DATABASES:
        raise ImproperlyConfigured(
            f"REDIS_URL database {base} plus xdist worker {worker} is past Redis database {REDIS_DATABASES - 1}: "
            "pick a lower database or fewer workers (-n)"
        )
    return urlunsplit(parts._replace(path=f"/{db}"))


def _xdist_environ() -> dict[str, str]:
    url = os.environ.get("REDIS_URL", "")
    return {"REDIS_URL": xdist_redis_url(url, os.environ.get("PYTEST_XDIST_WORKER", ""))} if url else {}


# base.py derives the broker, result store, channel layer and cache from REDIS_URL: it reads the
# worker's database. The environment is restored afterwards, so a child process that imports these
# settings with the same PYTEST_XDIST_WORKER lands on the same database instead of shifting it twice.
with mock.patch.dict(os.environ, _xdist_environ()):
    from .base import *

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests run real HTTP receivers on 127.0.0.1.
ALLOW_HTTP_OUTBOUND = True
# Tests call tasks in-process even when REDIS_URL points at a real Redis; the
# worker integration tests start real worker processes with the base settings.
CELERY_TASK_ALWAYS_EAGER = True
# The test process imports config.asgi: no scheduler thread racing the tests' own job runs.
PERIODIC_JOBS_IN_PROCESS = False
# Every test client is 127.0.0.1 and, on Redis, the cache outlives each test: hundreds of deliberate bad-key
# tests would trip the failed-authentication limits. tests/core/test_rate_limits.py sets its own, small ones.
API_AUTH_FAILURES_PER_ADDRESS = "1000000/10m"
API_AUTH_FAILURES_PER_KEY = "1000000/10m"
# Likewise every signed hosted link opens from 127.0.0.1; tests/sessions/test_hosted_links.py sets a small limit.
HOSTED_LINK_SIGNED_PER_HOUR = 1_000_000
