"""The client's address in the ASGI scope, for every HTTP request and socket: behind proxies, the one the nearest
of ``PROXY_HOPS`` proxies saw; an IPv4 client on a dual-stack listener as IPv4.

Daphne's own ``--proxy-headers`` takes the left-most ``X-Forwarded-For`` entry, which the client writes itself
when a proxy appends to the header (nginx's ``$proxy_add_x_forwarded_for``, AWS ALB, Heroku): any caller could
claim an allowed address, another's rate limits, or an audit address. Each proxy appends the peer it saw, so the
entry ``PROXY_HOPS`` from the right is the address the outermost of our proxies saw: the one to trust.
``python -m config.serve --proxy-headers`` sets ``PROXY_HEADERS`` and leaves the header to this middleware.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings

from .addresses import address_clean

Scope = dict[str, Any]


def trusted_client(peer: str | None, forwarded_headers: Iterable[str]) -> str | None:
    """The client address this service trusts, from the connection's ``peer`` and the ``X-Forwarded-For`` header
    values (None when it has none)."""
    host = peer
    if settings.PROXY_HEADERS:
        forwarded = [part.strip() for value in forwarded_headers for part in value.split(",")]
        hops = int(settings.PROXY_HOPS)
        if len(forwarded) >= hops and address_clean(forwarded[-hops]) is not None:
            host = forwarded[-hops]
    return address_clean(host) if host is not None else None


def forwarded_client(scope: Scope) -> str | None:
    """The client address this service trusts for the ASGI ``scope`` (None when it has none)."""
    client = scope.get("client")
    return trusted_client(
        client[0] if client else None,
        (value.decode("latin-1") for name, value in scope.get("headers") or () if name.lower() == b"x-forwarded-for"),
    )


class ClientAddressMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> Any:
        if scope["type"] in ("http", "websocket"):
            client = scope.get("client")
            host = forwarded_client(scope)
            if host is not None and (not client or client[0] != host):
                scope = {**scope, "client": (host, client[1] if client else 0)}
        return await self.app(scope, receive, send)
