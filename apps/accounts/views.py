"""Token and clock endpoints."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.schema import ERROR_RESPONSES
from apps.core.timestamps import utc_timestamp

from .authentication import ApiKeyAuthentication, request_api_key
from .services import api_token_issue


class TokenGetView(APIView):
    # API key only: a token cannot mint another token.
    authentication_classes = [ApiKeyAuthentication]

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()
        expirationUtcTime = serializers.CharField()

    @extend_schema(
        summary="Get a short-lived Bearer token",
        description="API key only. The JWT works as `Authorization: Bearer <token>` until `expirationUtcTime`.",
        responses={200: OutputSerializer, **ERROR_RESPONSES(401)},
    )
    def get(self, request: Request) -> Response:
        token, expires = api_token_issue(api_key=request_api_key(request))
        return Response({"token": token, "expirationUtcTime": utc_timestamp(expires)})


class UtcNowView(APIView):
    @extend_schema(
        summary="Server time (UTC)",
        responses={200: inline_serializer("UtcNow", {"utcNow": serializers.CharField()}), **ERROR_RESPONSES(401)},
    )
    def get(self, request: Request) -> Response:
        return Response({"utcNow": utc_timestamp()})
