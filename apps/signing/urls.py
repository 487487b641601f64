"""API routes under /v1/."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views

urlpatterns: list[URLPattern] = [
    path("signature/create", views.SignatureCreateView.as_view(), name="signature-create"),
    path("signature/validate", views.SignatureValidateView.as_view(), name="signature-validate"),
    path("signature/secret", views.SigningSecretView.as_view(), name="signature-secret"),
    path(
        "signature/allowed-redirect-origins",
        views.AllowedRedirectOriginsView.as_view(),
        name="signature-allowed-redirect-origins",
    ),
    path("signature/rotate-secret", views.SigningSecretRotateView.as_view(), name="signature-rotate-secret"),
]
