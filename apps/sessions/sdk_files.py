"""The Web SDK's files at ``/sdk/v1/``: the same files as the npm package in ``sdk/js/`` (docs/sdk.md).

Any site may load them (``Access-Control-Allow-Origin: *`` and a cross-origin resource policy, so
``<script type="module">`` and ``import()`` work from the integrator's origin); they hold no secret.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

SDK_DIR = Path(settings.BASE_DIR) / "sdk" / "js"
SDK_FILES = {
    "liveproof.js": "text/javascript; charset=utf-8",
    "liveproof.global.js": "text/javascript; charset=utf-8",
    "liveproof.d.ts": "text/plain; charset=utf-8",
    "react.js": "text/javascript; charset=utf-8",
    "react.d.ts": "text/plain; charset=utf-8",
}


@require_GET
def sdk_file(request: HttpRequest, name: str) -> HttpResponse:
    if name not in SDK_FILES:
        raise Http404
    response = HttpResponse((SDK_DIR / name).read_bytes(), content_type=SDK_FILES[name])
    response["Access-Control-Allow-Origin"] = "*"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    response["Cache-Control"] = "public, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    return response
