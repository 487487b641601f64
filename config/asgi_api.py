"""ASGI entry point of the API process (``python -m config.serve_api``): HTTP only, through Django.

The same HTTP path as the web process (``config.asgi``: the client's address, then Django in one thread hop a
request), without the WebSocket routes, the engine's warm-up or the in-process periodic jobs, which belong to the
web process.
"""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
django.setup(set_prefix=False)

from apps.core.asgi import SyncChainASGIHandler  # noqa: E402
from apps.core.client_address import ClientAddressMiddleware  # noqa: E402

application = ClientAddressMiddleware(SyncChainASGIHandler())
