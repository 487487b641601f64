"""Who is acting in this request: set by API authentication, read by ``audit_record``; reset per request."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse


@dataclass(frozen=True)
class Actor:
    name: str  # "apiKey:<prefix>", "admin:<name>", "system"
    address: str | None = None


SYSTEM = Actor("system")
_current: ContextVar[Actor] = ContextVar("audit_actor", default=SYSTEM)


def actor_set(actor: Actor) -> None:
    _current.set(actor)


def actor_current() -> Actor:
    return _current.get()


class AuditActorMiddleware:
    """Every request starts as "system" until authentication names the caller, and ends as it started."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _current.set(SYSTEM)
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)
