"""Helpers of the iLive tests: a real ALTCHA solve, and finishing a session with a real verdict."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from altcha import solve_challenge_v1

from apps.sessions.models import Session
from apps.sessions.services import session_verdict_record
from tests.sessions import real_captures

# 002, "Quick start: managed session".
MANAGED_BODY = {"redirect_url": "https://yourapp.com/verify/callback", "webhook_url": "https://yourapp.com/api/webhook"}


def managed(client: Any, body: dict[str, Any] = MANAGED_BODY) -> Any:
    return client.post("/api/v1/managed-session", body, format="json")


def fresh_address() -> str:
    """An IPv6 client address of a /64 unique to this call: a shared cache (Redis) keeps counters between runs."""
    return f"2001:db8:{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}::1"


def solved_altcha(client: Any) -> str:
    """Fetch a challenge from the service and solve it the way the ALTCHA widget does (a brute-force search)."""
    response = client.get("/api/v1/captcha/challenge")
    assert response.status_code == 200, response.content
    challenge = response.json()
    solution = solve_challenge_v1(
        challenge["challenge"], challenge["salt"], challenge["algorithm"], challenge["maxNumber"]
    )
    assert solution is not None
    payload = {**{k: challenge[k] for k in ("algorithm", "challenge", "salt", "signature")}, "number": solution.number}
    return base64.b64encode(json.dumps(payload).encode()).decode()


def finish(session: Session, *, attack: bool = False) -> Session:
    """The session's verdict from a real capture: the astronaut answering its challenges, or a waved print."""
    challenges = tuple(session.challenges)
    if session.mode == "passive":
        verdict = real_captures.print_attack_verdict(()) if attack else real_captures.live_passive_verdict()
    elif attack:
        verdict = real_captures.print_attack_verdict(challenges)
    else:
        verdict = real_captures.live_active_verdict(challenges)
    Session.objects.filter(id=session.id).update(status="analysing", attempt=1)
    session.refresh_from_db()
    session_verdict_record(session=session, verdict=verdict)
    session.refresh_from_db()
    return session
