"""Django's ASGI handler with the middleware chain run synchronously, in one thread hop per request.

Every middleware here has synchronous hooks (Django's own, whitenoise, csp, axes)
and the API's views are synchronous (DRF). Built in async mode, Django runs each
``MiddlewareMixin`` hook through ``sync_to_async`` and back: about 22 thread
hand-offs per request, which cost more CPU than the request itself (5.6 ms against
0.6 ms for the health check, measured in-process). Built in sync mode the chain
runs in the request's thread-sensitive thread in one go; an ``async def`` view is
still awaited (``async_to_sync``), from that thread.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler


class SyncChainASGIHandler(ASGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)
        if is_async:
            handler: Any = self
            handler._middleware_chain = sync_to_async(handler._middleware_chain, thread_sensitive=True)
