"""WebSocket routes."""

from __future__ import annotations

from django.urls import URLPattern, path, re_path

from .consumers import SessionConsumer
from .socket_base import UnknownPathConsumer

# django-stubs type path()'s view as an HTTP view only; Channels routes ASGI applications with it.
websocket_urlpatterns: list[URLPattern] = [
    path("ws/v1/sessions/<uuid:session_id>/", SessionConsumer.as_asgi()),  # type: ignore[arg-type]
    # Last: a malformed session id or any other socket path (not only under ws/) closes with 4404.
    re_path(r"", UnknownPathConsumer.as_asgi()),  # type: ignore[arg-type]
]
