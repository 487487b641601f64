"""API routes under /v1/."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views

urlpatterns: list[URLPattern] = [
    path("verification/get", views.VerificationGetView.as_view(), name="verification-get"),
    path("verification/get-all", views.VerificationGetAllView.as_view(), name="verification-get-all"),
    path("verification/create", views.VerificationCreateView.as_view(), name="verification-create"),
    path(
        "verification/create-or-update",
        views.VerificationCreateOrUpdateView.as_view(),
        name="verification-create-or-update",
    ),
    path("verification/update", views.VerificationUpdateView.as_view(), name="verification-update"),
    path("verification/delete", views.VerificationDeleteView.as_view(), name="verification-delete"),
]
