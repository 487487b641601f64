"""Face Recognition API: thin views over apps.faces services and selectors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.authentication import request_account
from apps.core.fields import QueryIntegerField
from apps.core.patterns import (
    COLLECTION_ID_MAX_LENGTH,
    COLLECTION_ID_PATTERN,
    FACE_ID_PATTERN,
    collection_id_schema,
    face_id_schema,
)
from apps.core.schema import ERROR_RESPONSES
from apps.core.timestamps import utc_timestamp

from .models import Face, FaceSighting
from .selectors import collection_get, collection_list, face_get, face_list
from .services import collection_delete, collection_describe, face_delete

MAX_PAGE = 1_000_000


class UtcTimestampField(serializers.Field):
    """Times as the seed prints them: UTC with seven fractional digits and a Z."""

    def to_representation(self, value: datetime) -> str:
        return utc_timestamp(value)


@extend_schema_field(OpenApiTypes.STR)
class _Ts(UtcTimestampField):
    pass


class CollectionOutputSerializer(serializers.Serializer):
    collectionId = serializers.CharField(source="collection_id")
    description = serializers.CharField()
    createdAt = _Ts(source="created_at")
    updatedAt = _Ts(source="updated_at")
    faceCount = serializers.IntegerField(source="face_count")
    engine = serializers.CharField()
    modelVersion = serializers.CharField(source="model_version")


class FaceOutputSerializer(serializers.Serializer):
    faceId = serializers.CharField(source="face_id")
    collectionId = serializers.CharField(source="collection.collection_id")
    externalId = serializers.CharField(source="external_id", allow_null=True)
    firstSeenAt = _Ts(source="first_seen_at")
    lastSeenAt = _Ts(source="last_seen_at")
    sessionIds = serializers.SerializerMethodField(method_name="get_session_ids")

    def get_session_ids(self, obj: Face) -> list[str]:
        return [str(s.session_id) for s in obj.sightings.all()]


class CollectionQuery(serializers.Serializer):
    # Whatever a verification config accepts as collectionId, kept as sent (no trimming).
    collectionId = serializers.RegexField(
        COLLECTION_ID_PATTERN, max_length=COLLECTION_ID_MAX_LENGTH, trim_whitespace=False
    )


class _FaceQuery(serializers.Serializer):
    faceId = serializers.RegexField(FACE_ID_PATTERN, trim_whitespace=False)


def _query(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


_COLLECTION_PARAM = OpenApiParameter(
    "collectionId", collection_id_schema(), required=True, allow_blank=False, description="The collection's id"
)
_FACE_PARAM = OpenApiParameter(
    "faceId", face_id_schema(), required=True, allow_blank=False, description="32 hexadecimal characters"
)


class CollectionGetView(APIView):
    @extend_schema(
        summary="Get a face collection",
        parameters=[_COLLECTION_PARAM],
        responses={
            200: inline_serializer("CollectionGet", {"recognitionCollection": CollectionOutputSerializer()}),
            **ERROR_RESPONSES(400, 401, 404),
        },
        tags=["Face Recognition"],
    )
    def get(self, request: Request) -> Response:
        query = _query(CollectionQuery, request)
        collection = collection_get(account=request_account(request), collection_id=query["collectionId"])
        return Response({"recognitionCollection": CollectionOutputSerializer(collection).data})


class CollectionGetAllView(APIView):
    @extend_schema(
        summary="List the account's face collections",
        responses={
            200: inline_serializer("CollectionGetAll", {"collections": CollectionOutputSerializer(many=True)}),
            **ERROR_RESPONSES(401),
        },
        tags=["Face Recognition"],
    )
    def get(self, request: Request) -> Response:
        return Response(
            {
                "collections": CollectionOutputSerializer(
                    collection_list(account=request_account(request)), many=True
                ).data
            }
        )


class CollectionDeleteView(APIView):
    @extend_schema(
        summary="Delete a face collection and all its embeddings",
        parameters=[_COLLECTION_PARAM],
        responses={
            200: inline_serializer(
                "CollectionDelete",
                {"collectionId": serializers.CharField(), "deletedFaceCount": serializers.IntegerField()},
            ),
            **ERROR_RESPONSES(400, 401, 404),
        },
        tags=["Face Recognition"],
    )
    def delete(self, request: Request) -> Response:
        query = _query(CollectionQuery, request)
        count = collection_delete(account=request_account(request), collection_id=query["collectionId"])
        return Response({"collectionId": query["collectionId"], "deletedFaceCount": count})


class CollectionUpdateView(APIView):
    class InputSerializer(serializers.Serializer):
        collectionId = serializers.RegexField(
            COLLECTION_ID_PATTERN, max_length=COLLECTION_ID_MAX_LENGTH, trim_whitespace=False
        )
        description = serializers.CharField(max_length=500, allow_blank=True)

    @extend_schema(
        summary="Set a face collection's description",
        description="Collections are created on first use by a session's faceRecognition block; this names one.",
        request=InputSerializer,
        responses={
            200: inline_serializer("CollectionUpdate", {"recognitionCollection": CollectionOutputSerializer()}),
            **ERROR_RESPONSES(400, 401, 404),
        },
        tags=["Face Recognition"],
    )
    def post(self, request: Request) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        collection = collection_describe(
            account=request_account(request),
            collection_id=body.validated_data["collectionId"],
            description=body.validated_data["description"],
        )
        return Response({"recognitionCollection": CollectionOutputSerializer(collection).data})


class FaceGetAllView(APIView):
    class InputSerializer(CollectionQuery):
        # Capped so the row offset stays within the database's integer range.
        page = QueryIntegerField(min_value=1, max_value=MAX_PAGE, default=1)
        pageSize = QueryIntegerField(min_value=1, max_value=500, default=100)

    @extend_schema(
        summary="List a collection's faces (paged, oldest first)",
        parameters=[
            _COLLECTION_PARAM,
            OpenApiParameter(
                "page",
                {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
                description=f"1-based page number, 1..{MAX_PAGE} (default 1)",
            ),
            OpenApiParameter(
                "pageSize",
                {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
                description="1..500 (default 100)",
            ),
        ],
        responses={
            200: inline_serializer(
                "FaceGetAll",
                {
                    "faces": FaceOutputSerializer(many=True),
                    "page": serializers.IntegerField(),
                    "pageSize": serializers.IntegerField(),
                    "totalCount": serializers.IntegerField(),
                },
            ),
            **ERROR_RESPONSES(400, 401, 404),
        },
        tags=["Face Recognition"],
    )
    def get(self, request: Request) -> Response:
        query = _query(self.InputSerializer, request)
        collection = collection_get(
            account=request_account(request), collection_id=query["collectionId"], counted=False
        )
        faces = face_list(collection=collection).select_related("collection")
        page, size = query["page"], query["pageSize"]
        rows = faces.prefetch_related(Prefetch("sightings", queryset=FaceSighting.objects.order_by("seen_at", "id")))
        rows = rows[(page - 1) * size : page * size]
        return Response(
            {
                "faces": FaceOutputSerializer(rows, many=True).data,
                "page": page,
                "pageSize": size,
                "totalCount": faces.count(),
            }
        )


class FaceGetView(APIView):
    @extend_schema(
        summary="Get one stored face (never an image: ids and times only)",
        parameters=[_FACE_PARAM],
        responses={
            200: inline_serializer("FaceGet", {"face": FaceOutputSerializer()}),
            **ERROR_RESPONSES(400, 401, 404),
        },
        tags=["Face Recognition"],
    )
    def get(self, request: Request) -> Response:
        query = _query(_FaceQuery, request)
        return Response(
            {"face": FaceOutputSerializer(face_get(account=request_account(request), face_id=query["faceId"])).data}
        )


class FaceDeleteView(APIView):
    @extend_schema(
        summary="Delete one stored face",
        parameters=[_FACE_PARAM],
        responses={
            200: inline_serializer("FaceDelete", {"faceId": serializers.CharField()}),
            **ERROR_RESPONSES(400, 401, 404),
        },
        tags=["Face Recognition"],
    )
    def delete(self, request: Request) -> Response:
        query = _query(_FaceQuery, request)
        face_delete(account=request_account(request), face_id=query["faceId"])
        return Response({"faceId": query["faceId"].lower()})
