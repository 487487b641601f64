"""Users API (``/v1/user/*``): thin views over apps.users services and selectors."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.authentication import request_account
from apps.core.exceptions import validated_data
from apps.core.fields import QueryIntegerField, StrictCharField, StrictSerializer, StrictUUIDField
from apps.core.schema import ERROR_RESPONSES

from .selectors import user_get, user_get_by_external_id, user_list, user_payload
from .services import user_create, user_delete, user_document_matches, user_enrol


def _years_pattern(last: int) -> str:
    """A regex for the years 1900..``last`` (2000 <= last <= 2099)."""
    decades = [f"20{d}[0-9]" for d in range((last - 2000) // 10)]
    return "|".join(["19[0-9]{2}", *decades, f"20{(last - 2000) // 10}[0-{last % 10}]"])


# Dates of birth from 1900 to the end of last year (the schema says so, as the field checks).
DATE_PATTERN = rf"^({_years_pattern(timezone.now().year - 1)})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
DOCUMENT_PATTERN = r"^[ ]*[0-9A-Za-z][0-9A-Za-z -]{0,63}$"
MAX_PAGE = 1_000_000
_TAGS = ["Users"]


class DateOfBirthField(StrictCharField):
    """``YYYY-MM-DD``, a real date from 1900 to the end of last year."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(pattern=DATE_PATTERN, schema_format="date", **kwargs)

    def to_internal_value(self, data: Any) -> date:  # type: ignore[override]
        text = super().to_internal_value(data)
        try:
            value = date.fromisoformat(text)
        except ValueError:
            raise serializers.ValidationError("Not a real date (YYYY-MM-DD).") from None
        return value


def _document_field(**kwargs: Any) -> StrictCharField:
    return StrictCharField(
        pattern=DOCUMENT_PATTERN,
        max_length=64,
        help_text="Passport, ID card or driving licence number; stored only as a keyed hash, never returned.",
        **kwargs,
    )


class UserSerializer(serializers.Serializer):
    entryUserId = serializers.UUIDField()
    externalId = serializers.CharField()
    isRegistrationComplete = serializers.BooleanField(help_text="A face is enrolled.")
    deviceId = serializers.CharField(allow_null=True, help_text="Hash of the device of the user's last session.")
    dateOfBirth = serializers.DateField(allow_null=True)
    hasPhotoIdentityDocumentNumber = serializers.BooleanField()
    enrolledSessionId = serializers.UUIDField(allow_null=True)
    createdAt = serializers.CharField()
    updatedAt = serializers.CharField()


class _IdQuery(serializers.Serializer):
    entryUserId = StrictUUIDField()


_USER_RESPONSE = inline_serializer("UserResponse", {"user": UserSerializer()})
_ID_PARAM = OpenApiParameter("entryUserId", OpenApiTypes.UUID, required=True, description="The user's id.")


class UserCreateView(APIView):
    class InputSerializer(StrictSerializer):
        externalId = StrictCharField(max_length=200, help_text="Your id for the user; unique in the account.")
        dateOfBirth = DateOfBirthField(required=False)
        photoIdentityDocumentNumber = _document_field(required=False)

    @extend_schema(
        summary="Create a user",
        request=InputSerializer,
        responses={200: _USER_RESPONSE, **ERROR_RESPONSES(400, 401, 409)},
        tags=_TAGS,
    )
    def post(self, request: Request) -> Response:
        body = validated_data(self.InputSerializer, request.data)
        user = user_create(
            account=request_account(request),
            external_id=body["externalId"],
            date_of_birth=body.get("dateOfBirth"),
            document_number=body.get("photoIdentityDocumentNumber"),
        )
        return Response({"user": user_payload(user=user)})


class _ExternalIdQuery(serializers.Serializer):
    externalId = serializers.CharField(max_length=200, trim_whitespace=False)


class UserGetView(APIView):
    @extend_schema(
        summary="Get a user by entryUserId",
        parameters=[_ID_PARAM],
        responses={200: _USER_RESPONSE, **ERROR_RESPONSES(400, 401, 404)},
        tags=_TAGS,
    )
    def get(self, request: Request) -> Response:
        query = validated_data(_IdQuery, request.query_params)
        user = user_get(account=request_account(request), entry_user_id=query["entryUserId"])
        return Response({"user": user_payload(user=user)})


class UserGetByExternalIdView(APIView):
    @extend_schema(
        summary="Get a user by your externalId",
        parameters=[
            OpenApiParameter("externalId", {"type": "string", "minLength": 1, "maxLength": 200}, required=True)
        ],
        responses={200: _USER_RESPONSE, **ERROR_RESPONSES(400, 401, 404)},
        tags=_TAGS,
    )
    def get(self, request: Request) -> Response:
        query = validated_data(_ExternalIdQuery, request.query_params)
        user = user_get_by_external_id(account=request_account(request), external_id=query["externalId"])
        return Response({"user": user_payload(user=user)})


class _PageQuery(serializers.Serializer):
    page = QueryIntegerField(min_value=1, max_value=MAX_PAGE, default=1)
    pageSize = QueryIntegerField(min_value=1, max_value=500, default=100)


class UserGetAllView(APIView):
    @extend_schema(
        summary="List users (paged, oldest first)",
        parameters=[
            OpenApiParameter("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}),
            OpenApiParameter("pageSize", {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}),
        ],
        responses={
            200: inline_serializer(
                "UserGetAll",
                {
                    "users": UserSerializer(many=True),
                    "page": serializers.IntegerField(),
                    "pageSize": serializers.IntegerField(),
                    "totalCount": serializers.IntegerField(),
                },
            ),
            **ERROR_RESPONSES(400, 401),
        },
        tags=_TAGS,
    )
    def get(self, request: Request) -> Response:
        query = validated_data(_PageQuery, request.query_params)
        users = user_list(account=request_account(request))
        page, size = query["page"], query["pageSize"]
        rows = users[(page - 1) * size : page * size]
        return Response(
            {
                "users": [user_payload(user=u) for u in rows],
                "page": page,
                "pageSize": size,
                "totalCount": users.count(),
            }
        )


class UserEnrollView(APIView):
    class InputSerializer(StrictSerializer):
        entryUserId = StrictUUIDField()
        verificationSessionId = StrictUUIDField(help_text="A session of this account that passed (within 7 days).")

    @extend_schema(
        summary="Enrol the user's face from a passed session",
        description=(
            "Stores the face of a passed session (liveness checked) as the user's face; a face the user had is "
            "replaced. 409 `no_face_data` when the session did not pass or its face is gone, 409 "
            "`face_registered_to_other_user` when the face is another user's."
        ),
        request=InputSerializer,
        responses={200: _USER_RESPONSE, **ERROR_RESPONSES(400, 401, 404, 409)},
        tags=_TAGS,
    )
    def post(self, request: Request) -> Response:
        body = validated_data(self.InputSerializer, request.data)
        user = user_enrol(
            account=request_account(request),
            entry_user_id=body["entryUserId"],
            session_id=body["verificationSessionId"],
        )
        return Response({"user": user_payload(user=user)})


class UserCheckDocumentView(APIView):
    class InputSerializer(StrictSerializer):
        entryUserId = StrictUUIDField()
        photoIdentityDocumentNumber = _document_field()

    @extend_schema(
        summary="Check a document number against the user's stored one",
        request=InputSerializer,
        responses={
            200: inline_serializer(
                "UserCheckDocument", {"entryUserId": serializers.UUIDField(), "matches": serializers.BooleanField()}
            ),
            **ERROR_RESPONSES(400, 401, 404),
        },
        tags=_TAGS,
    )
    def post(self, request: Request) -> Response:
        body = validated_data(self.InputSerializer, request.data)
        user = user_get(account=request_account(request), entry_user_id=body["entryUserId"])
        matches = user_document_matches(user=user, document_number=body["photoIdentityDocumentNumber"])
        return Response({"entryUserId": str(user.id), "matches": matches})


class UserDeleteView(APIView):
    @extend_schema(
        summary="Delete a user",
        description="Deletes the user, their face and profile, and clears the personal fields of their sessions.",
        parameters=[_ID_PARAM],
        responses={
            200: inline_serializer(
                "UserDelete",
                {
                    "entryUserId": serializers.UUIDField(),
                    "deletedFaceCount": serializers.IntegerField(),
                    "clearedSessionCount": serializers.IntegerField(),
                },
            ),
            **ERROR_RESPONSES(400, 401, 404),
        },
        tags=_TAGS,
    )
    def delete(self, request: Request) -> Response:
        query = validated_data(_IdQuery, request.query_params)
        deletion = user_delete(account=request_account(request), entry_user_id=query["entryUserId"])
        return Response(
            {
                "entryUserId": str(query["entryUserId"]),
                "deletedFaceCount": deletion.deleted_face_count,
                "clearedSessionCount": deletion.cleared_session_count,
            }
        )
