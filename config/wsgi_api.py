"""WSGI entry point of the API process (``python -m config.serve_api``): HTTP only, through Django.

The same Django code as the web process (``config.asgi``), without the WebSocket routes, the engine's warm-up or
the in-process periodic jobs, which belong to the web process; over WSGI, so that no request pays a hop from an
event loop to a thread (``apps.core.wsgi``).
"""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
django.setup(set_prefix=False)

from apps.core.wsgi import application_build  # noqa: E402

application = application_build()
