"""Face Recognition API, matching: compare two faces, identify one in a collection (thin views over comparison)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from drf_spectacular.utils import extend_schema, inline_serializer
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
)
from apps.core.schema import ERROR_RESPONSES

from .comparison import face_compare, face_identify, image_check_size, image_decode_base64
from .views import CollectionQuery


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
        query = CollectionQuery(data={"collectionId": _body(request).get("collectionId")})
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
