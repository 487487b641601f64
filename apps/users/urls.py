"""API routes under /v1/user/."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views

urlpatterns: list[URLPattern] = [
    path("user/create", views.UserCreateView.as_view(), name="users-create"),
    path("user/get", views.UserGetView.as_view(), name="users-get"),
    path("user/get-by-external-id", views.UserGetByExternalIdView.as_view(), name="users-get-by-external-id"),
    path("user/get-all", views.UserGetAllView.as_view(), name="users-get-all"),
    path("user/enroll", views.UserEnrollView.as_view(), name="users-enroll"),
    path("user/check-document", views.UserCheckDocumentView.as_view(), name="users-check-document"),
    path("user/delete", views.UserDeleteView.as_view(), name="users-delete"),
]
