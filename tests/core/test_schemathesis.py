"""Schemathesis over every operation of /swagger/schema.json: the served schema matches the server.

Every built-in check runs (no 5xx, status codes, content types, headers and bodies as
documented, invalid data refused, valid data accepted, auth not ignored, ...), in-process
against the WSGI handler, with a fixed seed so CI replays the same requests every run.

Three kinds of value are valid or not by their content, which no JSON Schema can say: an
outbound URL (its host must resolve to a public address: the outbound rules, tested in
tests/webhooks/test_ssrf.py), an image (it must show one face) and a query string to sign
(no repeated names, escapes that decode to UTF-8: tests/signing/test_canonical.py). In
schema-valid cases those values become a public URL, the account's allowed origin, a real
face photo and a plain query string, so "valid data is accepted" is checked for every other
field; schema-invalid cases go as drawn.
"""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from apps.signing.redirects import allowed_redirect_origins_set

pytestmark = [pytest.mark.slow]

# Per operation; 36 operations stay within a few minutes on the shared 2-core machine.
EXAMPLES_PER_OPERATION = 30
PUBLIC_URL = "https://hooks.example.com/liveproof"
ORIGIN = "https://shop.example.com"
_URL_FIELDS = {"eventCallbackUrl", "url", "webhookUrl", "webhook_url", "privacyPolicyUrl", "supportUrl"}
_REDIRECT_FIELDS = {"passedUrl", "failedUrl", "redirect_url"}
_IMAGE_FIELDS = {"image", "image1", "image2"}

# Loaded once at collection from the served endpoint, exactly what clients download.
schema = schemathesis.openapi.from_wsgi("/swagger/schema.json", get_wsgi_application())


def _solved_captcha() -> str:
    """A proof-of-work CAPTCHA solved as the ALTCHA widget solves it (each solution is accepted once)."""
    from altcha import solve_challenge_v1

    from apps.ilive.captcha import captcha_challenge_create

    challenge = captcha_challenge_create()
    solution = solve_challenge_v1(
        challenge["challenge"], challenge["salt"], challenge["algorithm"], challenge["maxNumber"]
    )
    assert solution is not None
    fields = {k: challenge[k] for k in ("algorithm", "challenge", "salt", "signature")}
    return base64.b64encode(json.dumps({**fields, "number": solution.number}).encode()).decode()


@cache
def _face_jpeg() -> bytes:
    from PIL import Image
    from skimage import data

    out = io.BytesIO()
    Image.fromarray(data.astronaut()[0:280, 110:370]).save(out, format="JPEG", quality=92)
    return out.getvalue()


def _content_free(value: Any) -> Any:
    """``value`` with outbound URLs and images replaced by ones whose content is known to be acceptable."""
    if isinstance(value, list):
        return [_content_free(item) for item in value]
    if isinstance(value, str):
        # A lone surrogate is not Unicode text: every text field refuses it (DRF), which the schema's
        # patterns cannot say (the validator's regex engine has no surrogate code points).
        return re.sub("[\ud800-\udfff]", "\ufffd", value)
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if key in _URL_FIELDS and isinstance(item, str) and item:
            out[key] = PUBLIC_URL
        elif key in _REDIRECT_FIELDS and isinstance(item, str):
            out[key] = f"{ORIGIN}/done"
        elif key == "queryString" and isinstance(item, str):
            out[key] = "key1=value1&key2=value2"
        elif key == "allowedRedirectOrigins" and isinstance(item, list):
            out[key] = [ORIGIN for _ in item]
        elif key == "altcha" and isinstance(item, str):
            out[key] = _solved_captcha()
        elif key == "allowedNetworks" and isinstance(item, list):
            # An allow-list is valid by content too: one without the caller's address locks the key out.
            out[key] = []
        elif key == "accentColor" and isinstance(item, str):
            out[key] = "#1A4FA0"  # valid by content too: a pale colour fails the WCAG AA contrast check (400)
        elif key == "logoId":
            continue  # valid only for a logo this account stored: a reference by content, like a faceId
        elif key in _IMAGE_FIELDS | {"logo"} and isinstance(item, bytes | str):
            out[key] = base64.b64encode(_face_jpeg()).decode("ascii")
        else:
            out[key] = _content_free(item)
    return out


@schema.hook
def map_case(context: Any, case: schemathesis.Case) -> schemathesis.Case:
    if case.meta is not None and case.meta.generation.mode.is_positive and isinstance(case.body, dict):
        case.body = _content_free(case.body)
    return case


@schema.hook
def filter_case(context: Any, case: schemathesis.Case) -> bool:
    # Schemathesis re-validates a body edited after generation and calls any file part (bytes) invalid,
    # so a schema-valid multipart body cannot be given a real face: those go (their JSON twins carry it).
    # Schema-invalid multipart bodies still run.
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    files = "multipart" in (case.media_type or "") and isinstance(case.body, dict)
    return not (positive and files and _IMAGE_FIELDS & set(case.body))


@pytest.fixture(autouse=True)
def _in_the_test_transaction(db, settings, tmp_path) -> Iterator[None]:
    """Like Django's test client: requests must not close the connection that holds the test's transaction."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    # The public iLive direct-session API is on, and its per-address limits do not end the run early.
    settings.DIRECT_SESSIONS_ENABLED = True
    settings.DIRECT_SESSIONS_PER_HOUR = 100_000
    settings.ILIVE_CAPTCHA_CHALLENGES_PER_HOUR = 100_000
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_its_schema_says(case, integrator):
    allowed_redirect_origins_set(account=integrator.account, origins=[ORIGIN])
    case.call_and_validate(headers={"Authorization": f"ApiKey {integrator.key}"})
