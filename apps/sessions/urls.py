"""API routes under /v1/."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views

urlpatterns: list[URLPattern] = [
    path("verification/create-session", views.CreateSessionView.as_view(), name="create-session"),
    path("verification/get-session-result", views.GetSessionResultView.as_view(), name="get-session-result"),
    path("verification/get-session-photo", views.SessionPhotoView.as_view(), name="get-session-photo"),
    path(
        "verification/get-session-photo-report", views.SessionPhotoReportView.as_view(), name="get-session-photo-report"
    ),
]
