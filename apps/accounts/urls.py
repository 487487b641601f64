from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("token/get", views.TokenGetView.as_view(), name="token-get"),
    path("datetime/utc-now", views.UtcNowView.as_view(), name="utc-now"),
]
