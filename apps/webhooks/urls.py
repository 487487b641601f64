"""API routes under /v1/."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views

urlpatterns: list[URLPattern] = [
    path("webhooks/secret", views.WebhookSecretGetView.as_view(), name="webhook-secret-get"),
    path("webhooks/secret/rotate", views.WebhookSecretRotateView.as_view(), name="webhook-secret-rotate"),
    path("webhooks/test", views.WebhookTestView.as_view(), name="webhook-test"),
]
