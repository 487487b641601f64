"""Test settings: the base settings plus fast hashing and local outbound HTTP."""

from __future__ import annotations

from .base import *

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests run real HTTP receivers on 127.0.0.1.
ALLOW_HTTP_OUTBOUND = True
# Tests call tasks in-process even when REDIS_URL points at a real Redis; the
# worker integration tests start real worker processes with the base settings.
CELERY_TASK_ALWAYS_EAGER = True
# The test process imports config.asgi: no scheduler thread racing the tests' own job runs.
PERIODIC_JOBS_IN_PROCESS = False
