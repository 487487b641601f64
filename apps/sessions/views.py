"""Integrator API of sessions: create-session, get-session-result, the ICAO photo and its report."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.authentication import request_account
from apps.core.errors import ApplicationError
from apps.core.exceptions import validated_data
from apps.core.fields import StrictCharField, StrictChoiceField, StrictSerializer, StrictUUIDField
from apps.core.languages import LOCALE_HELP, LOCALES
from apps.core.patterns import NON_BLANK_TEXT_PATTERN
from apps.core.schema import ERROR_RESPONSES
from apps.verifications import serializers as vs
from apps.verifications.schema import SEED_ID

from .models import Session
from .selectors import session_get, session_result_get, session_result_payload
from .services.create import session_create
from .tokens import session_token_issue

MAX_CUSTOM_PARAMETERS = 50


class _JsonObjectField(serializers.JSONField):
    """A JSON object validated later by the verification serializers (so errors keep their dotted paths)."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError("Must be a JSON object.")
        return data


@extend_schema_field(
    {
        "type": "object",
        "maxProperties": MAX_CUSTOM_PARAMETERS,
        "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 500, "pattern": NON_BLANK_TEXT_PATTERN},
        "description": f"At most {MAX_CUSTOM_PARAMETERS} keys of up to 100 characters; string values.",
    }
)
class _CustomInputParametersField(serializers.DictField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=StrictCharField(max_length=500), **kwargs)

    def to_internal_value(self, data: Any) -> dict[str, str]:
        value: dict[str, str] = super().to_internal_value(data)
        if len(value) > MAX_CUSTOM_PARAMETERS or any(len(k) > 100 for k in value):
            raise serializers.ValidationError(f"At most {MAX_CUSTOM_PARAMETERS} keys of up to 100 characters.")
        # Values are strict text (no NUL); keys are not, and PostgreSQL's JSONB cannot store NUL.
        if any("\x00" in k for k in value):
            raise serializers.ValidationError("Keys may not contain NUL (\\u0000) characters.")
        return value


class _SessionIdQuery(serializers.Serializer):
    verificationSessionId = StrictUUIDField(help_text="The session's id.")


_SESSION_ID_PARAM = OpenApiParameter("verificationSessionId", OpenApiTypes.UUID, required=True)

# Each works as shown with the demo key (tests/core/test_swagger_examples.py sends them). Without them Swagger UI
# made one up from the schema, with a random verificationId: 404.
CREATE_SESSION_EXAMPLES = [
    OpenApiExample(
        "Passive liveness, no stored configuration",
        value={"verifierConfigs": {"liveness": {"type": "Verification", "challengeType": "Passive"}}},
        request_only=True,
    ),
    OpenApiExample(
        "Two challenges, age and gender, a webhook",
        value={
            "name": "Onboarding",
            "externalId": "customer-1234",
            "verifierConfigs": {
                "liveness": {"type": "Verification", "challengeType": "Balanced"},
                "age": {"type": "CalculationOnly"},
                "gender": {"type": "CalculationOnly"},
            },
            "webhookConfig": {"eventCallbackUrl": "https://your-server.example.com/webhook"},
            "customInputParameters": {"orderId": "A-1001"},
        },
        request_only=True,
    ),
    OpenApiExample(
        "From the stored verification (the demo has it)",
        value={"verificationId": SEED_ID, "externalId": "customer-1234"},
        request_only=True,
    ),
]


_RECOVERY_SCHEMA = {
    "required": ["verifierConfigs"],
    "properties": {
        "verifierConfigs": {
            "required": ["faceRecognition"],
            "properties": {"faceRecognition": {"required": ["type"], "properties": {"type": {"enum": ["Recovery"]}}}},
        }
    },
}
_ENTRY_USER_HELP = (
    "Bind the session to one of your users (/v1/user/*): required for faceRecognition Recovery; the user's "
    "dateOfBirth then decides the age check. Unknown users answer 404."
)


class CreateSessionView(APIView):
    class InputSerializer(StrictSerializer):
        verificationId = StrictUUIDField(required=False, help_text="Start from this stored verification.")
        name = StrictCharField(required=False, max_length=200)
        externalId = StrictCharField(required=False, max_length=200, help_text="Returned as correlationId.")
        entryUserId = StrictUUIDField(required=False, help_text=_ENTRY_USER_HELP)
        verifierConfigs = _JsonObjectField(required=False)
        webhookConfig = _JsonObjectField(required=False)
        redirectConfig = _JsonObjectField(required=False)
        resultParameterConfig = _JsonObjectField(required=False)
        customInputParameters = _CustomInputParametersField(required=False, help_text="Returned with the result.")
        locale = StrictChoiceField(choices=LOCALES, required=False, help_text=LOCALE_HELP)

    class CreateSessionSerializer(StrictSerializer):
        """What the OpenAPI schema shows: the input fields, with the verification blocks' real shapes."""

        # Without a stored verification there is nothing to verify with: one of the two is required.
        schema_extra = {
            **StrictSerializer.schema_extra,
            "allOf": [
                {"anyOf": [{"required": ["verifierConfigs"]}, {"required": ["verificationId"]}]},
                # Recovery is bound to a user: entryUserId is required with it (session_create checks).
                {"anyOf": [{"not": _RECOVERY_SCHEMA}, {"required": ["entryUserId"]}]},
            ],
        }
        schema_body_required = True

        verificationId = StrictUUIDField(required=False, help_text="Start from this stored verification.")
        name = StrictCharField(required=False, max_length=200)
        externalId = StrictCharField(required=False, max_length=200, help_text="Returned as correlationId.")
        entryUserId = StrictUUIDField(required=False, help_text=_ENTRY_USER_HELP)
        verifierConfigs = vs.VerifierConfigsSerializer(required=False, help_text="Required without verificationId.")
        webhookConfig = vs.WebhookConfigSerializer(required=False)
        redirectConfig = vs.RedirectConfigSerializer(required=False)
        resultParameterConfig = vs.ResultParameterConfigSerializer(required=False)
        customInputParameters = _CustomInputParametersField(required=False, help_text="Returned with the result.")
        locale = StrictChoiceField(choices=LOCALES, required=False, help_text=LOCALE_HELP)

    class CreateSessionResponseSerializer(serializers.Serializer):
        verificationSessionId = serializers.UUIDField()
        sessionToken = serializers.CharField(help_text="HS256 JWT, single use, valid ≤ 10 minutes.")
        sessionUrl = serializers.URLField(help_text="The hosted verification page (redirect integrations).")

    @extend_schema(
        summary="Create session",
        description="Creates a verification session and a short-lived, single-use session token.",
        request=CreateSessionSerializer,
        examples=CREATE_SESSION_EXAMPLES,
        responses={200: CreateSessionResponseSerializer, **ERROR_RESPONSES(400, 401, 404, 503)},
    )
    def post(self, request: Request) -> Response:
        body = validated_data(self.InputSerializer, request.data)
        session = session_create(account=request_account(request), body=body)
        return Response(
            {
                "verificationSessionId": str(session.id),
                "sessionToken": session_token_issue(session_id=session.id),
                "sessionUrl": session.session_url,
            }
        )


class GetSessionResultView(APIView):
    @extend_schema(
        summary="Get session result",
        description=(
            "Every result field of a session of this account created within the last 7 days, plus `status`, "
            "the engine, its model versions and the component scores."
        ),
        parameters=[_SESSION_ID_PARAM],
        responses={200: OpenApiTypes.OBJECT, **ERROR_RESPONSES(400, 401, 404)},
    )
    def get(self, request: Request) -> Response:
        query = validated_data(_SessionIdQuery, request.query_params)
        session = session_result_get(account=request_account(request), session_id=query["verificationSessionId"])
        return Response(session_result_payload(session=session))


def _photo_session(request: Request) -> Session:
    query = validated_data(_SessionIdQuery, request.query_params)
    session = session_get(account=request_account(request), session_id=query["verificationSessionId"])
    if session.status in Session.UNFINISHED:
        return session
    if not session.passed or not session.icao_jpeg:
        raise ApplicationError("No ICAO photo for this session.", code="not_found", status=404)
    return session


class SessionPhotoView(APIView):
    @extend_schema(
        summary="Get the ICAO photo",
        description="A 480x600 JPEG for a passed session; 202 while the session is unfinished; 404 otherwise.",
        parameters=[_SESSION_ID_PARAM],
        responses={
            (200, "image/jpeg"): OpenApiTypes.BINARY,
            202: OpenApiResponse(description="Still capturing or analysing; try again shortly."),
            **ERROR_RESPONSES(400, 401, 404),
        },
    )
    def get(self, request: Request) -> HttpResponse:
        session = _photo_session(request)
        if session.status in Session.UNFINISHED:
            return Response({"verificationSessionId": str(session.id), "status": session.status}, status=202)
        # A finished session here has its photo (_photo_session checked); `or b""` only narrows the type.
        response = HttpResponse(bytes(session.icao_jpeg or b""), content_type="image/jpeg")
        response["Cache-Control"] = "private, no-store"
        return response


class SessionPhotoReportView(APIView):
    @extend_schema(
        summary="Get the ICAO compliance report",
        description="Which ICAO checks the photo of a passed session meets; 202 while unfinished; 404 otherwise.",
        parameters=[_SESSION_ID_PARAM],
        responses={
            200: OpenApiTypes.OBJECT,
            202: OpenApiResponse(description="Unfinished"),
            **ERROR_RESPONSES(400, 401, 404),
        },
    )
    def get(self, request: Request) -> Response:
        session = _photo_session(request)
        if session.status in Session.UNFINISHED:
            return Response({"verificationSessionId": str(session.id), "status": session.status}, status=202)
        checks = dict(session.icao_checks or {})
        return Response(
            {
                "verificationSessionId": str(session.id),
                "width": 480,
                "height": 600,
                "compliant": bool(checks) and all(checks.values()),
                "checks": checks,
            }
        )
