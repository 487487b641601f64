"""``/brand/logo/<id>``: an integrator's logo, served by us (apps/accounts/branding.py)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from .models import BrandLogo


@require_GET
def brand_logo(request: HttpRequest, logo_id: str) -> HttpResponse:
    logo = BrandLogo.objects.filter(sha256=logo_id).only("content_type", "data").first()
    if logo is None:
        raise Http404
    response = HttpResponse(bytes(logo.data), content_type=logo.content_type)
    # Named by its content: it never changes. nosniff: a browser takes it as the image it was checked to be.
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response
