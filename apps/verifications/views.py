"""The verification configuration API: thin views over the services and selectors."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.authentication import request_account
from apps.core.schema import ERROR_RESPONSES

from . import schema
from .models import VerificationConfig
from .selectors import verification_get, verification_list
from .serializers import (
    VerificationConfigSerializer,
    VerificationIdQuerySerializer,
    VerificationUpdateSerializer,
    VerificationWriteSerializer,
)
from .services import (
    verification_create,
    verification_create_or_update,
    verification_delete,
    verification_update,
)

TAG = "Verification configurations"


def api_timestamp(moment: datetime) -> str:
    """``created``/``lastModified`` as the Service API prints them: whole seconds, UTC, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    """Validate a body or query; a body that is not a JSON object is reported under ``body``."""
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        errors = dict(serializer.errors)
        if "non_field_errors" in errors:
            errors["body"] = errors.pop("non_field_errors")
        raise ValidationError(errors)
    return serializer.validated_data


def verification_id_from_query(request: Request) -> uuid.UUID:
    return validated(VerificationIdQuerySerializer, request.query_params)["verificationId"]


def submitted_config(request: Request) -> Any:
    """The body's ``verificationConfig`` exactly as sent (it is stored so), once ``validated`` accepted the body."""
    body = request.data
    if not isinstance(body, Mapping):
        raise ValidationError({"body": ["Must be a JSON object."]})
    return body["verificationConfig"]


class VerificationSummarySerializer(serializers.Serializer):
    verificationId = serializers.UUIDField()
    name = serializers.CharField()
    created = serializers.CharField(help_text="UTC, e.g. 2025-11-07T00:00:00Z")
    lastModified = serializers.CharField(help_text="UTC, e.g. 2025-11-07T00:00:00Z")


def summary(verification: VerificationConfig) -> dict[str, Any]:
    return {
        "verificationId": str(verification.id),
        "name": verification.name,
        "created": api_timestamp(verification.created),
        "lastModified": api_timestamp(verification.last_modified),
    }


VERIFICATION_ID_PARAMETER = OpenApiParameter(
    "verificationId", OpenApiTypes.UUID, OpenApiParameter.QUERY, required=True, description="The verification's id."
)


class VerificationDetailSerializer(serializers.Serializer):
    created = serializers.CharField(help_text="UTC, e.g. 2025-11-07T00:00:00Z")
    lastModified = serializers.CharField(help_text="UTC, e.g. 2025-11-07T00:00:00Z")
    verificationId = serializers.UUIDField()
    name = serializers.CharField()
    verificationConfig = VerificationConfigSerializer(help_text="The configuration exactly as it was last submitted.")


class VerificationGetResponseSerializer(serializers.Serializer):
    verification = VerificationDetailSerializer()


class VerificationGetView(APIView):
    OutputSerializer = VerificationGetResponseSerializer

    @extend_schema(
        operation_id="verification_get",
        summary="Get Verification",
        description="Returns a verification configuration by verificationId.",
        tags=[TAG],
        parameters=[VERIFICATION_ID_PARAMETER],
        responses={200: OutputSerializer, **ERROR_RESPONSES(400, 401, 404)},
        examples=schema.GET_EXAMPLES,
    )
    def get(self, request: Request) -> Response:
        verification_id = verification_id_from_query(request)
        verification = verification_get(account=request_account(request), verification_id=verification_id)
        return Response(
            {
                "verification": {
                    "created": api_timestamp(verification.created),
                    "lastModified": api_timestamp(verification.last_modified),
                    "verificationId": str(verification.id),
                    "name": verification.name,
                    "verificationConfig": verification.submitted_config,
                }
            }
        )


class VerificationGetAllResponseSerializer(serializers.Serializer):
    verifications = VerificationSummarySerializer(many=True)


class VerificationGetAllView(APIView):
    OutputSerializer = VerificationGetAllResponseSerializer

    @extend_schema(
        operation_id="verification_get_all",
        summary="Get All Verifications",
        description="Returns all verification configurations of the account, oldest first.",
        tags=[TAG],
        responses={200: OutputSerializer, **ERROR_RESPONSES(401)},
    )
    def get(self, request: Request) -> Response:
        return Response({"verifications": [summary(v) for v in verification_list(account=request_account(request))]})


class VerificationIdResponseSerializer(serializers.Serializer):
    verificationId = serializers.UUIDField()


class VerificationCreateView(APIView):
    InputSerializer = VerificationWriteSerializer
    OutputSerializer = VerificationIdResponseSerializer

    @extend_schema(
        operation_id="verification_create",
        summary="Create Verification",
        description=(
            "Creates a new verification configuration. A verification is a reusable configuration: create it "
            "once, use it for many sessions. Use create-or-update for idempotent set-up."
        ),
        tags=[TAG],
        request=InputSerializer,
        examples=schema.WRITE_EXAMPLES,
        responses={200: OutputSerializer, **ERROR_RESPONSES(400, 401, 409, 413, 415)},
    )
    def post(self, request: Request) -> Response:
        data = validated(self.InputSerializer, request.data)
        verification = verification_create(
            account=request_account(request), name=data["name"], verification_config=submitted_config(request)
        )
        return Response({"verificationId": str(verification.id)})


class VerificationCreateOrUpdateResponseSerializer(serializers.Serializer):
    verificationId = serializers.UUIDField()
    wasCreated = serializers.BooleanField(help_text="true when no verification had this name before.")


class VerificationCreateOrUpdateView(APIView):
    InputSerializer = VerificationWriteSerializer
    OutputSerializer = VerificationCreateOrUpdateResponseSerializer

    @extend_schema(
        operation_id="verification_create_or_update",
        summary="Create or Update Verification",
        description=(
            "Creates a verification configuration, or replaces the one with the same name. Changing "
            "faceRecognition.collectionId only detaches the old collection; it is not deleted."
        ),
        tags=[TAG],
        request=InputSerializer,
        examples=schema.WRITE_EXAMPLES,
        responses={200: OutputSerializer, **ERROR_RESPONSES(400, 401, 413, 415)},
    )
    def post(self, request: Request) -> Response:
        data = validated(self.InputSerializer, request.data)
        verification, was_created = verification_create_or_update(
            account=request_account(request), name=data["name"], verification_config=submitted_config(request)
        )
        return Response({"verificationId": str(verification.id), "wasCreated": was_created})


class VerificationUpdateView(APIView):
    InputSerializer = VerificationUpdateSerializer
    OutputSerializer = VerificationIdResponseSerializer

    @extend_schema(
        operation_id="verification_update",
        summary="Update Verification",
        description=(
            "Replaces the name and the whole configuration of a verification. Changing "
            "faceRecognition.collectionId only detaches the old collection; it is not deleted."
        ),
        tags=[TAG],
        request=InputSerializer,
        examples=schema.UPDATE_EXAMPLES,
        responses={200: OutputSerializer, **ERROR_RESPONSES(400, 401, 404, 409, 413, 415)},
    )
    def put(self, request: Request) -> Response:
        data = validated(self.InputSerializer, request.data)
        verification = verification_update(
            account=request_account(request),
            verification_id=data["verificationId"],
            name=data["name"],
            verification_config=submitted_config(request),
        )
        return Response({"verificationId": str(verification.id)})


class VerificationDeleteView(APIView):
    OutputSerializer = VerificationIdResponseSerializer

    @extend_schema(
        operation_id="verification_delete",
        summary="Delete Verification",
        description="Deletes a verification configuration. Sessions already created keep their own copy.",
        tags=[TAG],
        parameters=[VERIFICATION_ID_PARAMETER],
        responses={200: OutputSerializer, **ERROR_RESPONSES(400, 401, 404)},
    )
    def delete(self, request: Request) -> Response:
        verification_id = verification_id_from_query(request)
        verification_delete(account=request_account(request), verification_id=verification_id)
        return Response({"verificationId": str(verification_id)})
