"""A URLconf with no routes (tests/core/test_asgi_path.py: a changed ROOT_URLCONF is followed)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
