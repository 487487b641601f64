"""Browser-facing routes at the top level (hosted pages)."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import handoff_pages, hosted_link_page, pages, sdk_files

urlpatterns: list[URLPattern] = [
    path("s/<uuid:session_id>/", pages.session_page, name="session-page"),
    path("s/<uuid:session_id>/status", pages.session_status, name="session-status"),
    path("s/<uuid:session_id>/consent", pages.session_consent, name="session-consent"),
    path("s/<uuid:session_id>/handoff", handoff_pages.session_handoff, name="session-handoff"),
    path("go/", handoff_pages.handoff_enter, name="handoff-enter"),
    path("sdk/v1/<str:name>", sdk_files.sdk_file, name="sdk-file"),
    path("direct/", pages.direct_session, name="direct-session"),
    path("demo/", pages.demo_page, name="demo"),
    path("demo/return/", pages.demo_return, name="demo-return"),
    path("v/<uuid:verification_id>", hosted_link_page.hosted_link, name="hosted-link"),
    path("v/<uuid:verification_id>/", hosted_link_page.hosted_link, name="hosted-link-slash"),
]
