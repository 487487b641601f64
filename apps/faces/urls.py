"""API routes under /v1/."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import match_views, selfie_id_views, views

urlpatterns: list[URLPattern] = [
    path("collection/get", views.CollectionGetView.as_view(), name="faces-collection-get"),
    path("collection/get-all", views.CollectionGetAllView.as_view(), name="faces-collection-get-all"),
    path("collection/update", views.CollectionUpdateView.as_view(), name="faces-collection-update"),
    path("collection/delete", views.CollectionDeleteView.as_view(), name="faces-collection-delete"),
    path("face/get-all", views.FaceGetAllView.as_view(), name="faces-face-get-all"),
    path("face/get", views.FaceGetView.as_view(), name="faces-face-get"),
    path("face/delete", views.FaceDeleteView.as_view(), name="faces-face-delete"),
    path("face/compare", match_views.FaceCompareView.as_view(), name="faces-face-compare"),
    path("face/identify", match_views.FaceIdentifyView.as_view(), name="faces-face-identify"),
    path("verif/settings", selfie_id_views.PartnerSettingsView.as_view(), name="faces-verif-settings"),
    path("verif/check/get", selfie_id_views.CheckGetView.as_view(), name="faces-verif-check-get"),
    path("verif/check/file", selfie_id_views.CheckFileView.as_view(), name="faces-verif-check-file"),
]
