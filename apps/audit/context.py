"""Who is acting in this request: set by API authentication, read by ``audit_record``; reset per request."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse

from apps.core.addresses import address_clean


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

    def process_view(self, request: HttpRequest, *args: object, **kwargs: object) -> None:
        """An operator's request in the admin acts as ``admin:<username>`` from its own address: the trail
        named every change made there (keys, configs, secrets, users) "system", a worker."""
        user = getattr(request, "user", None)  # set by AuthenticationMiddleware, after this one's __call__
        if request.path.startswith("/admin/") and user is not None and user.is_authenticated and user.is_staff:
            actor_set(Actor(f"admin:{user.get_username()}", address_clean(request.META.get("REMOTE_ADDR"))))
