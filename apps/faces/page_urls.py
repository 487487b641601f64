"""Browser-facing routes at the top level (hosted pages)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import selfie_id_views

urlpatterns: list[URLPattern] = [
    path("verif/", selfie_id_views.verif_page, name="faces-verif-page"),
    path("verif/submit", selfie_id_views.verif_submit, name="faces-verif-submit"),
    path("verif/files/<uuid:check_id>/<str:kind>", selfie_id_views.verif_file, name="faces-verif-file"),
]
