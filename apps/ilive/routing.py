"""WebSocket route of the iLive (002) frame socket."""

from __future__ import annotations

from django.urls import URLPattern, path, re_path

from apps.sessions.socket_base import UnknownPathConsumer

from .consumers import IliveSessionConsumer

# django-stubs type path()'s view as an HTTP view only; Channels routes ASGI applications with it.
websocket_urlpatterns: list[URLPattern] = [
    path("api/v1/session/<uuid:session_id>/ws", IliveSessionConsumer.as_asgi()),  # type: ignore[arg-type]
    # A malformed session id or any other /api/ socket path closes with 4404, as under /ws/.
    re_path(r"^api/", UnknownPathConsumer.as_asgi()),  # type: ignore[arg-type]
]
