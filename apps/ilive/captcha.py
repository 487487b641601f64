"""A self-hosted proof-of-work CAPTCHA for the public direct-session API (ALTCHA, no third party).

``GET /api/v1/captcha/challenge`` hands out an HMAC-signed challenge: find the number ``n`` with
``SHA-256(salt + n) == challenge``, ``n`` at most ``maxNumber``. The client (the ALTCHA widget, or any
script) sends the answer back base64-encoded as ``altcha`` with ``POST /api/v1/session``. The
signature proves the challenge is ours, the salt carries its expiry, and each solved challenge is
spent once (a cache entry that lives until the challenge would have expired anyway).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import timedelta
from typing import Any

from altcha import ChallengeOptionsV1, create_challenge_v1, verify_solution_v1
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from apps.core.errors import ApplicationError
from apps.core.keys import derive_key
from apps.core.parsers import json_problem

MAX_PAYLOAD_CHARS = 2000


def _hmac_key() -> str:
    return derive_key("ilive-captcha").hex()


def captcha_challenge_create() -> dict[str, Any]:
    """A fresh challenge as the ALTCHA widget reads it: algorithm, challenge, maxNumber, salt, signature."""
    expires = timezone.now() + timedelta(seconds=int(settings.ILIVE_CAPTCHA_EXPIRES_SECONDS))
    challenge = create_challenge_v1(
        ChallengeOptionsV1(
            algorithm="SHA-256",
            max_number=int(settings.ILIVE_CAPTCHA_MAX_NUMBER),
            hmac_key=_hmac_key(),
            expires=expires,
        )
    )
    return dict(challenge.to_dict())


def _refused(message: str) -> ApplicationError:
    return ApplicationError(message, code="captcha_failed", status=400, fields={"altcha": [message]})


def _decoded(payload: str) -> dict[str, Any]:
    if len(payload) > MAX_PAYLOAD_CHARS:
        raise _refused("The CAPTCHA solution is too long.")
    try:
        value = json.loads(base64.b64decode(payload, validate=True))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: deep nesting
        raise _refused("The CAPTCHA solution is not base64-encoded JSON.") from None
    fields = ("algorithm", "challenge", "number", "salt", "signature")
    if not isinstance(value, dict) or not all(isinstance(value.get(k), int if k == "number" else str) for k in fields):
        raise _refused("The CAPTCHA solution lacks algorithm, challenge, number, salt or signature.")
    if json_problem(value, 32) is not None:  # a lone surrogate: the library's hashing raised on it (a 500)
        raise _refused("The CAPTCHA solution is not valid text.")
    return value


def captcha_solution_spend(*, payload: str | None) -> None:
    """Accept a solved, unexpired challenge of ours once; raise a 400 ``captcha_required``/``captcha_failed``."""
    if not settings.ILIVE_CAPTCHA_ENABLED:
        return
    if not payload:
        raise ApplicationError(
            "Solve a CAPTCHA from GET /api/v1/captcha/challenge and send it as altcha.",
            code="captcha_required",
            status=400,
            fields={"altcha": ["Required."]},
        )
    value = _decoded(payload)
    ok, error = verify_solution_v1(payload, _hmac_key(), check_expires=True)
    if not ok:
        raise _refused(error or "The CAPTCHA solution is wrong.")
    spent = "ilive-captcha-spent:" + hashlib.sha256(str(value["signature"]).encode()).hexdigest()
    if not cache.add(spent, 1, timeout=int(settings.ILIVE_CAPTCHA_EXPIRES_SECONDS) + 60):
        raise _refused("This CAPTCHA solution was already used.")
