"""Face Recognition API: thin views over apps.faces services and selectors."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import BaseParser, FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.authentication import request_account
from apps.core.errors import ApplicationError
from apps.core.fields import StrictCharField
from apps.core.parsers import json_bounded_loads
from apps.core.patterns import (
    COLLECTION_ID_MAX_LENGTH,
    COLLECTION_ID_PATTERN,
    FACE_ID_PATTERN,
    collection_id_schema,
    face_id_schema,
)
from apps.core.schema import ERROR_RESPONSES
from apps.core.timestamps import utc_timestamp

from .comparison import face_compare, face_identify, image_check_size, image_decode_base64
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


class _CollectionQuery(serializers.Serializer):
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
        query = _query(_CollectionQuery, request)
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
        query = _query(_CollectionQuery, request)
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
    class InputSerializer(_CollectionQuery):
        # Capped so the row offset stays within the database's integer range.
        page = serializers.IntegerField(min_value=1, max_value=MAX_PAGE, default=1)
        pageSize = serializers.IntegerField(min_value=1, max_value=500, default=100)

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
        collection = collection_get(account=request_account(request), collection_id=query["collectionId"])
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


def _image(request: Request, name: str) -> bytes | None:
    """An image from a multipart file or a base64 JSON/form string; None when absent.

    Sent but null or empty is a 400, as the schema says (a field is omitted, not nulled).
    """
    _body(request)  # parse once, turning parser failures into the JSON error shape
    upload = request.FILES.get(name)
    if upload is not None:
        # Reading one byte past the limit is enough to refuse an oversized file.
        return image_check_size(data=upload.read(int(settings.FACES_MAX_IMAGE_BYTES) + 1), field=name)
    if name not in _body(request):
        return None
    value = _body(request).get(name)
    if not isinstance(value, str) or not value:
        raise ApplicationError(
            f"{name} must be a base64 string or a file.", fields={name: ["Expected base64 or a file."]}
        )
    return image_decode_base64(value=value, field=name)


def _body(request: Request) -> Mapping[str, Any]:
    """The request body as a mapping; a JSON array or scalar is a 400, not a crash."""
    try:
        data = request.data
    except RequestDataTooBig:
        # Only non-file multipart fields reach Django's in-memory limit: images must be files there.
        raise ApplicationError(
            "Form fields are too large: send images as files in multipart/form-data, or as base64 in JSON.",
            code="too_large",
            status=413,
        ) from None
    if not isinstance(data, Mapping):
        raise ApplicationError("The request body must be a JSON object or a form.", code="invalid")
    return data


class ImageJSONParser(BaseParser):
    """JSON read straight from the request stream.

    DRF's JSONParser goes through ``request.body``, capped by Django's
    DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB), too small for base64 photos. The body
    size is already capped for this path by ``API_BODY_LIMITS`` (middleware)
    before anything reads it.
    """

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        if stream is None:
            return {}
        return json_bounded_loads(stream.read())


def _required(name: str) -> ApplicationError:
    return ApplicationError("The request has invalid fields.", fields={name: ["This field is required."]})


_PARSERS = [ImageJSONParser, MultiPartParser, FormParser]


class FaceComparisonSerializer(serializers.Serializer):
    similarity = serializers.FloatField()
    isIdentical = serializers.BooleanField()
    threshold = serializers.FloatField()
    engine = serializers.CharField()
    modelVersions = serializers.DictField(child=serializers.CharField(), help_text="The models behind the embeddings.")


# The request bodies as documented (the views read them with _image/_body, which enforce the same).
_COMPARE_ONE_OF = {
    # Two images, or one image (image or image1) and the session to compare it with.
    "anyOf": [
        {"required": ["image1", "image2"]},
        {"required": ["verificationSessionId", "image"]},
        {"required": ["verificationSessionId", "image1"]},
    ]
}


def _base64_image() -> StrictCharField:
    return StrictCharField(required=False, schema_format="byte", help_text="A JPEG or PNG, base64")


class FaceCompareJsonSerializer(serializers.Serializer):
    schema_extra = _COMPARE_ONE_OF
    schema_body_required = True
    image1 = _base64_image()
    image2 = _base64_image()
    image = _base64_image()
    verificationSessionId = serializers.UUIDField(required=False)


class FaceCompareUploadSerializer(serializers.Serializer):
    schema_extra = _COMPARE_ONE_OF
    schema_body_required = True
    image1 = serializers.FileField(required=False)
    image2 = serializers.FileField(required=False)
    image = serializers.FileField(required=False)
    verificationSessionId = serializers.UUIDField(required=False)


class _CollectionIdBody(StrictCharField):
    def __init__(self) -> None:
        super().__init__(pattern=COLLECTION_ID_PATTERN, max_length=COLLECTION_ID_MAX_LENGTH)


class FaceIdentifyJsonSerializer(serializers.Serializer):
    collectionId = _CollectionIdBody()
    image = StrictCharField(schema_format="byte", help_text="A JPEG or PNG, base64")


class FaceIdentifyUploadSerializer(serializers.Serializer):
    collectionId = _CollectionIdBody()
    image = serializers.FileField()


class FaceCompareView(APIView):
    parser_classes = _PARSERS

    @extend_schema(
        summary="Compare two faces, or a face with a verification session's face",
        description=(
            'JSON `{"image1": <base64>, "image2": <base64>}` or `{"image": <base64>, '
            '"verificationSessionId": ...}`, or multipart/form-data with files `image1`/`image2` (or `image` and '
            "the field `verificationSessionId`). Each image must show exactly one face: 400 with code `noFace`, "
            "`multipleFaces` or `badImage` names the image in `error.fields`."
        ),
        request={"application/json": FaceCompareJsonSerializer, "multipart/form-data": FaceCompareUploadSerializer},
        responses={200: FaceComparisonSerializer, **ERROR_RESPONSES(400, 401, 404, 409, 413)},
        tags=["Face Recognition"],
    )
    def post(self, request: Request) -> Response:
        session_id = _body(request).get("verificationSessionId")
        if "verificationSessionId" in _body(request) and (not isinstance(session_id, str) or not session_id):
            raise ApplicationError(
                "verificationSessionId must be a string.", fields={"verificationSessionId": ["Expected a UUID."]}
            )
        if session_id:
            sent_as, image = "image", _image(request, "image")
            if image is None:
                sent_as, image = "image1", _image(request, "image1")
            if image is None:
                raise _required("image")
            comparison = face_compare(
                account=request_account(request),
                image1=image,
                verification_session_id=str(session_id),
                image1_field=sent_as,
            )
        else:
            image1, image2 = _image(request, "image1"), _image(request, "image2")
            if image1 is None or image2 is None:
                raise ApplicationError(
                    "Send image1 and image2, or image and verificationSessionId.",
                    fields={
                        n: ["This field is required."] for n, v in (("image1", image1), ("image2", image2)) if not v
                    },
                )
            comparison = face_compare(account=request_account(request), image1=image1, image2=image2)
        return Response(
            {
                "similarity": round(comparison.similarity, 4),
                "isIdentical": comparison.is_identical,
                "threshold": comparison.threshold,
                "engine": comparison.engine,
                "modelVersions": dict(comparison.versions),
            }
        )


class FaceMatchSerializer(serializers.Serializer):
    faceId = serializers.CharField()
    externalId = serializers.CharField(allow_null=True)
    similarity = serializers.FloatField()


class FaceIdentifyView(APIView):
    parser_classes = _PARSERS

    @extend_schema(
        summary="1:N: find the person in an image among a collection's faces",
        description='JSON `{"collectionId", "image": <base64>}` or multipart with the file `image`.',
        request={"application/json": FaceIdentifyJsonSerializer, "multipart/form-data": FaceIdentifyUploadSerializer},
        responses={
            200: inline_serializer(
                "FaceIdentify", {"match": FaceMatchSerializer(allow_null=True), "threshold": serializers.FloatField()}
            ),
            **ERROR_RESPONSES(400, 401, 404, 409, 413),
        },
        tags=["Face Recognition"],
    )
    def post(self, request: Request) -> Response:
        query = _CollectionQuery(data={"collectionId": _body(request).get("collectionId")})
        query.is_valid(raise_exception=True)
        image = _image(request, "image")
        if image is None:
            raise _required("image")
        found = face_identify(
            account=request_account(request), collection_id=query.validated_data["collectionId"], image=image
        )
        match = None
        if found.match is not None:
            match = {
                "faceId": found.match.face.face_id,
                "externalId": found.match.face.external_id,
                "similarity": round(found.match.comparison.similarity, 4),
            }
        return Response({"match": match, "threshold": found.threshold})
