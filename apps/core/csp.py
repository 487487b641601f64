"""django-csp's middleware, with the policy that nothing varies built once rather than on every response.

django-csp builds both headers (the policy and the report-only one) from settings on every response: its
middleware took 54-56 us of CPU a response, 10 us with the headers kept (docs/benchmarks.md). Most responses
(every JSON answer of the API) have neither a nonce nor a per-view policy, so their headers are the same every
time: built once, they are kept until a CSP setting changes (Django's ``setting_changed``, as
``override_settings`` sends). A response with a nonce or a per-view policy (``_csp_config``, ``_csp_update``,
``_csp_replace`` and their ``_ro`` forms, which django-csp's decorators and our pages set) goes through
django-csp as before.
"""

from __future__ import annotations

import http.client
from functools import cache
from typing import Any

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as LibraryCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.http.response import HttpResponseBase

# What a view or a decorator may set on a response to change its policy (django-csp's get_policy_parts reads them).
_PER_RESPONSE = ("_csp_config", "_csp_update", "_csp_replace", "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro")
_SETTINGS = {
    "CONTENT_SECURITY_POLICY": (HEADER, "_csp_exempt"),
    "CONTENT_SECURITY_POLICY_REPORT_ONLY": (HEADER_REPORT_ONLY, "_csp_exempt_ro"),
}


@cache
def _fixed_headers() -> tuple[tuple[str, str, str, tuple[str, ...]], ...]:
    """(header, value, exemption attribute, excluded path prefixes) for each header the settings give."""
    out = []
    for name, (header, exempt) in _SETTINGS.items():
        value = build_policy(report_only=header == HEADER_REPORT_ONLY)
        if value:
            prefixes = tuple((getattr(settings, name, None) or {}).get("EXCLUDE_URL_PREFIXES", None) or ())
            out.append((header, value, exempt, prefixes))
    return tuple(out)


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in _SETTINGS:
        _fixed_headers.cache_clear()


class CSPMiddleware(LibraryCSPMiddleware):
    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if getattr(request, "_csp_nonce", None) is not None or any(hasattr(response, a) for a in _PER_RESPONSE):
            return super().process_response(request, response)
        if settings.DEBUG and response.status_code in (http.client.INTERNAL_SERVER_ERROR, http.client.NOT_FOUND):
            return response  # django-csp leaves Django's debug pages alone
        for header, value, exempt, prefixes in _fixed_headers():
            if (
                header not in response
                and not getattr(response, exempt, False)
                and not (prefixes and request.path_info.startswith(prefixes))
            ):
                response[header] = value
        # As django-csp does: a nonce asked for once the header is written could not be in it.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response
