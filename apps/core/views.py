"""Health endpoints and the JSON fallbacks for 404/500 under /v1/."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .errors import API_PREFIXES, error_response
from .health import readiness
from .timestamps import utc_timestamp


class HealthzView(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(
        summary="Health check",
        description="Answers the current UTC time as plain text, without authentication.",
        responses={(200, "text/plain"): OpenApiTypes.STR},
        auth=[],
    )
    def get(self, request: Request) -> HttpResponse:
        return HttpResponse(utc_timestamp(), content_type="text/plain")


class ReadyzView(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(
        summary="Readiness",
        description="Database, broker, channel layer and face engine; 503 when one is down.",
        responses={
            200: inline_serializer(
                "Readiness", {"ready": serializers.BooleanField(), "checks": serializers.DictField()}
            ),
            503: inline_serializer(
                "NotReady", {"ready": serializers.BooleanField(), "checks": serializers.DictField()}
            ),
        },
        auth=[],
    )
    def get(self, request: Request) -> Response:
        ready, checks = readiness()
        return Response({"ready": ready, "checks": checks}, status=200 if ready else 503)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIXES)


@csrf_exempt  # an API path never carries a CSRF cookie: a POST here is a 404 like any other, not Django's HTML 403
def api_not_found(request: HttpRequest) -> HttpResponse:
    """The last /v1/ route: an unknown API path, in the error shape whatever DEBUG says."""
    return error_response(404, "not_found", "Not found.")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return error_response(500, "server_error", "An internal error occurred.")
    return defaults.server_error(request)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return error_response(400, "invalid", "Bad request.")
    return defaults.bad_request(request, exception)
