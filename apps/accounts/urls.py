from __future__ import annotations

from django.urls import path

from . import audit_views, views

urlpatterns = [
    path("token/get", views.TokenGetView.as_view(), name="token-get"),
    path("datetime/utc-now", views.UtcNowView.as_view(), name="utc-now"),
    path("audit/events", audit_views.AuditEventsView.as_view(), name="audit-events"),
    path("audit/events/export", audit_views.AuditExportView.as_view(), name="audit-events-export"),
    path("api-key/allowed-networks", audit_views.AllowedNetworksView.as_view(), name="api-key-allowed-networks"),
]
