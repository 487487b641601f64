"""Browser-facing routes at the top level (hosted pages)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import pages

urlpatterns: list[URLPattern] = [
    path("v/<uuid:verification_id>", pages.hosted_link, name="hosted-link"),
    path("v/<uuid:verification_id>/", pages.hosted_link, name="hosted-link-slash"),
]
