"""iLive (002) routes, mounted at /api/v1/."""

from __future__ import annotations

from django.urls import URLPattern, path, re_path

from apps.core import views as core_views

from . import views

urlpatterns: list[URLPattern] = [
    path("managed-session", views.ManagedSessionView.as_view(), name="ilive-managed-session"),
    path("session", views.DirectSessionView.as_view(), name="ilive-session"),
    path("session/<uuid:session_id>/result", views.ResultView.as_view(), name="ilive-session-result"),
    path("session/<uuid:session_id>/photo", views.PhotoView.as_view(), name="ilive-session-photo"),
    path("captcha/challenge", views.CaptchaChallengeView.as_view(), name="ilive-captcha-challenge"),
    # Last: any other /api/v1/ path (a malformed session id too) is a JSON 404 in the error shape.
    re_path(r"^.*$", core_views.api_not_found),
]
