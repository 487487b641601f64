"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
django.setup(set_prefix=False)

from apps.core.asgi import SyncChainASGIHandler  # noqa: E402

django_asgi_app = SyncChainASGIHandler()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from apps.core.client_address import ClientAddressMiddleware  # noqa: E402
from apps.core.periodic import periodic_scheduler_start  # noqa: E402
from apps.ilive.routing import websocket_urlpatterns as ilive_websocket_urlpatterns  # noqa: E402
from apps.sessions.origins import SessionOriginValidator  # noqa: E402
from apps.sessions.routing import websocket_urlpatterns  # noqa: E402

# The iLive (002) frame socket first: the sessions' routes end with a catch-all of their own.
socket_routes = [*ilive_websocket_urlpatterns, *websocket_urlpatterns]

application = ClientAddressMiddleware(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            # ALLOWED_HOSTS, plus a session's account origins for that session's socket (the SDK's headless mode).
            # types-channels wants its own pattern type, which django-stubs' path() cannot return.
            "websocket": SessionOriginValidator(URLRouter(socket_routes)),  # type: ignore[arg-type]
        }
    )
)

if settings.CAPTURE_ANALYSIS == "web":
    # This process analyses its sockets' frames: the models load now, not under the first frame (or under the
    # frames of a session that reconnects here after another web process died), which then went stale waiting.
    from apps.sessions.services.frames import engine_warm_up

    engine_warm_up()

if settings.PERIODIC_JOBS_IN_PROCESS:
    # The embedded default has no Celery beat: this process runs the periodic jobs (expiry, retention).
    periodic_scheduler_start()
