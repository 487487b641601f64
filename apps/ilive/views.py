"""The iLive (002) HTTP endpoints under /api/v1/: parse, call one service, answer in 002's shapes."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.authentication import ApiKeyAuthentication, request_account
from apps.core.errors import ApplicationError
from apps.core.exceptions import validated_data
from apps.core.fields import StrictCharField
from apps.core.ratelimits import RateLimitExceeded, client_address, rate_limit_count
from apps.core.schema import ERROR_RESPONSES
from apps.sessions.models import Session
from apps.verifications.serializers import RedirectUrlField, StrictChoiceField, StrictSerializer, WebhookUrlField

from .authentication import BearerApiKeyAuthentication
from .captcha import captcha_challenge_create, captcha_solution_spend
from .services import (
    ilive_direct_session_create,
    ilive_result_payload,
    ilive_session_create,
    ilive_session_created_payload,
    ilive_session_get,
    ilive_verdict,
)

TAGS = ["iLive compatibility"]
_MODE_HELP = "active (default): 3-6 random challenges; passive: hold still for about 3 seconds"


def _limited(*, group: str, rate: str, request: Request) -> None:
    try:
        rate_limit_count(group=group, rate=rate, key=client_address(request))
    except RateLimitExceeded as exc:
        raise ApplicationError(
            "Too many requests from this address; try again later.",
            code="throttled",
            status=429,
            headers={"Retry-After": str(exc.retry_after)},
        ) from None


SessionCreated = inline_serializer(
    "IliveSessionCreated",
    {
        "session_id": serializers.UUIDField(),
        "session_url": serializers.URLField(help_text="The verification page: send the user here."),
        "token": serializers.CharField(help_text="Reads the result and photo, opens the socket."),
        "mode": serializers.ChoiceField(choices=["active", "passive"]),
        "ws_url": serializers.CharField(help_text="The frame socket, token included."),
        "expires_at": serializers.DateTimeField(),
        "direct": serializers.BooleanField(),
    },
)


class IliveRedirectUrlField(RedirectUrlField):
    """002: the user comes back "with the session ID as a query parameter", ``session_id``: a URL may not hold one."""

    def to_internal_value(self, data: Any) -> str:
        url = super().to_internal_value(data)
        if "session_id" in parse_qs(urlsplit(url).query, keep_blank_values=True):
            raise serializers.ValidationError("Leave session_id out: the session's id is added as session_id.")
        return url


class ManagedSessionView(APIView):
    authentication_classes = [BearerApiKeyAuthentication, ApiKeyAuthentication]

    class InputSerializer(StrictSerializer):
        redirect_url = IliveRedirectUrlField(
            required=False, help_text="Where the user returns, with ?session_id=; its origin must be allowed."
        )
        webhook_url = WebhookUrlField(required=False, help_text="Receives the result (https, public address).")
        mode = StrictChoiceField(choices=["active", "passive"], required=False, default="active", help_text=_MODE_HELP)

    @extend_schema(
        summary="Create a managed session (iLive)",
        description="002's server-to-server session: `Authorization: Bearer <API_KEY>` (or `ApiKey <key>`).",
        request=InputSerializer,
        responses={200: SessionCreated, **ERROR_RESPONSES(400, 401, 429, 503)},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        body = validated_data(self.InputSerializer, request.data)
        session = ilive_session_create(
            account=request_account(request),
            mode=body["mode"],
            redirect_url=body.get("redirect_url"),
            webhook_url=body.get("webhook_url"),
        )
        return Response(ilive_session_created_payload(session=session))


class DirectSessionView(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    class InputSerializer(StrictSerializer):
        mode = StrictChoiceField(choices=["active", "passive"], required=False, default="active", help_text=_MODE_HELP)
        altcha = StrictCharField(
            required=bool(settings.ILIVE_CAPTCHA_ENABLED),  # missing: 400 captcha_required (the view checks first)
            max_length=2000,
            help_text="A solved challenge of GET /api/v1/captcha/challenge, base64 JSON (the ALTCHA widget's value).",
        )

    @extend_schema(
        summary="Create a direct session (iLive, no API key)",
        description=(
            "002's client-side session. Needs DIRECT_SESSIONS_ENABLED (else 404), a solved proof-of-work CAPTCHA "
            "and stays within DIRECT_SESSIONS_PER_HOUR per client address (429 with Retry-After)."
        ),
        request=InputSerializer,
        responses={200: SessionCreated, **ERROR_RESPONSES(400, 404, 429, 503)},
        auth=[],
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        # 404 when off, then the per-address limit, then the body and its CAPTCHA (docs/ilive.md).
        if not settings.DIRECT_SESSIONS_ENABLED:
            raise ApplicationError("Direct sessions are turned off on this server.", code="not_found", status=404)
        _limited(group="direct-sessions", rate=f"{int(settings.DIRECT_SESSIONS_PER_HOUR)}/h", request=request)
        if isinstance(request.data, dict) and not request.data.get("altcha"):
            captcha_solution_spend(payload=None)  # 400 captcha_required (nothing when the CAPTCHA is off)
        body = validated_data(self.InputSerializer, request.data)
        captcha_solution_spend(payload=body.get("altcha"))
        session = ilive_direct_session_create(mode=body["mode"])
        return Response(ilive_session_created_payload(session=session, direct=True))


class CaptchaChallengeView(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Get a proof-of-work CAPTCHA challenge (ALTCHA)",
        description="Solve it and send it as `altcha` with POST /api/v1/session.",
        responses={
            200: inline_serializer(
                "IliveCaptchaChallenge",
                {
                    "algorithm": serializers.CharField(),
                    "challenge": serializers.CharField(),
                    "maxNumber": serializers.IntegerField(),
                    "salt": serializers.CharField(),
                    "signature": serializers.CharField(),
                },
            ),
            **ERROR_RESPONSES(429),
        },
        auth=[],
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        rate = f"{int(settings.ILIVE_CAPTCHA_CHALLENGES_PER_HOUR)}/h"
        _limited(group="ilive-captcha-challenges", rate=rate, request=request)
        return Response(captcha_challenge_create(), headers={"Cache-Control": "no-store"})


class _TokenQuery(serializers.Serializer):
    token = StrictCharField(max_length=200, help_text="The session's token, from the create call.")


def _session(request: Request, session_id: Any) -> Session:
    query = validated_data(_TokenQuery, request.query_params)
    return ilive_session_get(session_id=session_id, token=query["token"])


class ResultView(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Get the verification result (iLive)",
        description="`verdict` pass / fail / retry (null while unfinished) and its `confidence`.",
        parameters=[_TokenQuery],
        responses={200: OpenApiTypes.OBJECT, **ERROR_RESPONSES(400, 404)},
        auth=[],
        tags=TAGS,
    )
    def get(self, request: Request, session_id: Any) -> Response:
        session = _session(request, session_id)
        return Response(ilive_result_payload(session=session), headers={"Cache-Control": "no-store"})


class PhotoView(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Download the ICAO photo (iLive)",
        description="A 480x600 JPEG when the verdict is pass; 202 while processing; 404 otherwise.",
        parameters=[_TokenQuery],
        responses={
            (200, "image/jpeg"): OpenApiTypes.BINARY,
            202: OpenApiResponse(description="Still processing; try again shortly."),
            **ERROR_RESPONSES(400, 404),
        },
        auth=[],
        tags=TAGS,
    )
    def get(self, request: Request, session_id: Any) -> HttpResponse:
        session = _session(request, session_id)
        verdict = ilive_verdict(session=session)
        if verdict is None or verdict == "retry":
            return Response({"session_id": str(session.id), "status": session.status}, status=202)
        if verdict != "pass" or not session.icao_jpeg:
            raise ApplicationError("No photo: the verdict is not pass.", code="not_found", status=404)
        response = HttpResponse(bytes(session.icao_jpeg), content_type="image/jpeg")
        response["Cache-Control"] = "private, no-store"
        return response
