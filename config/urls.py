"""URL routes. API under /v1/, hosted pages at the top level."""

from __future__ import annotations

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiJsonRenderer2
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerSplitView, SpectacularYAMLAPIView

from apps.accounts.brand_views import brand_logo
from apps.core import views as core_views
from apps.core.metrics import metrics_view

api_v1: list[URLPattern | URLResolver] = [
    path("healthz", core_views.HealthzView.as_view(), name="healthz"),
    path("readyz", core_views.ReadyzView.as_view(), name="readyz"),
    path("", include("apps.accounts.urls")),
    path("", include("apps.verifications.urls")),
    path("", include("apps.sessions.urls")),
    path("", include("apps.signing.urls")),
    path("", include("apps.webhooks.urls")),
    path("", include("apps.faces.urls")),
    path("", include("apps.users.urls")),
    # Last: any other /v1/ path is a JSON 404, with DEBUG on too (Django's debug page would answer HTML).
    re_path(r"^.*$", core_views.api_not_found),
]

urlpatterns = [
    path("v1/", include(api_v1)),
    # The iLive (002) compatible API: the same sessions in its paths and shapes.
    path("api/v1/", include("apps.ilive.urls")),
    path("admin/", admin.site.urls),
    # Prometheus scrapes; 404 unless METRICS_TOKEN is set (docs/operations.md#metrics).
    path("metrics", metrics_view, name="metrics"),
    # JSON at .json (what clients and Swagger UI parse), the same document as YAML at .yaml.
    path(
        "swagger/schema.json",
        # Content-Type application/json first: clients that check it for plain JSON read the schema too.
        SpectacularJSONAPIView.as_view(renderer_classes=[OpenApiJsonRenderer2, OpenApiJsonRenderer]),
        name="schema",
    ),
    path("swagger/schema.yaml", SpectacularYAMLAPIView.as_view(), name="schema-yaml"),
    # The split view serves its start-up script as a file (script-src 'self'); Swagger UI's own inline <style>
    # block needs inline styles on this page only.
    path(
        "swagger/",
        csp_update({"style-src": [UNSAFE_INLINE]})(SpectacularSwaggerSplitView.as_view(url_name="schema")),
        name="swagger",
    ),
    # An integrator's logo on the hosted pages (docs/branding.md), by its SHA-256.
    re_path(r"^brand/logo/(?P<logo_id>[0-9a-f]{64})$", brand_logo, name="brand-logo"),
    path("", include("apps.sessions.page_urls")),
    path("", include("apps.faces.page_urls")),
]

handler400 = "apps.core.views.bad_request"
handler404 = "apps.core.views.not_found"
handler500 = "apps.core.views.server_error"
