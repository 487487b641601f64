"""Signature API: create and validate signed query strings, read and rotate the signing secret."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.authentication import request_account
from apps.accounts.models import Account
from apps.core.fields import StrictSerializer
from apps.core.patterns import HTTP_URL_PATTERN
from apps.core.schema import ERROR_RESPONSES

from .canonical import MAX_QUERY_STRING_LENGTH
from .redirects import MAX_ALLOWED_ORIGINS, allowed_redirect_origins_set
from .services import (
    DEFAULT_EXPIRATION_SECONDS,
    MAX_EXPIRATION_SECONDS,
    Outcome,
    signature_create,
    signature_validate,
    signing_secret_rotate,
    signing_secret_value,
    signing_secrets_valid,
)


class StrictBooleanField(serializers.BooleanField):
    """JSON true/false only: "false" or 0 in a security setting is far more likely a bug than intent."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class QueryStringField(serializers.CharField):
    """A JSON string (no number coerced to text), kept exactly as sent: spaces may be signed data."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", MAX_QUERY_STRING_LENGTH)
        super().__init__(allow_blank=True, trim_whitespace=False, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


@extend_schema_field(
    {
        "type": "array",
        "maxItems": MAX_ALLOWED_ORIGINS,
        "items": {"type": "string", "format": "uri", "pattern": HTTP_URL_PATTERN},
        "description": "Bare origins such as https://shop.example (no path, query, user or fragment).",
    }
)
class _OriginListField(serializers.JSONField):
    """Checked entry by entry by allowed_redirect_origins_set, so each error names its index."""


class SecuritySettingsSerializer(StrictSerializer):
    # What validate() refuses, for the OpenAPI schema: a nonce with expiration turned off.
    schema_extra = {
        **StrictSerializer.schema_extra,
        "not": {
            "required": ["enableNonce", "expirationEnabled"],
            "properties": {"enableNonce": {"enum": [True]}, "expirationEnabled": {"enum": [False]}},
        },
    }

    enableNonce = StrictBooleanField(required=False, default=False)
    expirationEnabled = StrictBooleanField(required=False, default=True)
    expirationInSeconds = StrictIntegerField(
        required=False, default=DEFAULT_EXPIRATION_SECONDS, min_value=1, max_value=MAX_EXPIRATION_SECONDS
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["enableNonce"] and not attrs["expirationEnabled"]:
            raise serializers.ValidationError({"enableNonce": ["A nonce requires expiration (expirationEnabled)."]})
        return attrs


_DEFAULT_SECURITY: dict[str, Any] = {
    "enableNonce": False,
    "expirationEnabled": True,
    "expirationInSeconds": DEFAULT_EXPIRATION_SECONDS,
}


class SignatureCreateView(APIView):
    class InputSerializer(StrictSerializer):
        class Meta:
            ref_name = "SignatureCreate"  # a unique OpenAPI component name

        queryString = QueryStringField()
        securitySettings = SecuritySettingsSerializer(required=False)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SignatureCreateResponse"  # a unique OpenAPI component name

        signature = serializers.CharField()
        signedQueryString = serializers.CharField()
        expiration = serializers.IntegerField(allow_null=True)
        nonce = serializers.CharField(allow_null=True)

    @extend_schema(
        summary="Create Signature",
        description=(
            "Signs `queryString` for a hosted verification link. The response's `signedQueryString` is the "
            "original parameters plus `reExpiration` (UTC Unix seconds, when expiration is enabled), `reNonce` "
            "(32 hex, when the nonce is enabled) and `reSignature` (last). Without `securitySettings` the link "
            "expires after 1 day and has no nonce. A nonce requires expiration."
        ),
        request=InputSerializer,
        responses={200: OutputSerializer, **ERROR_RESPONSES(400, 401)},
        examples=[
            OpenApiExample(
                "Seed example",
                request_only=True,
                value={
                    "queryString": "key1=value1&key2=value2",
                    "securitySettings": {"enableNonce": True, "expirationEnabled": True, "expirationInSeconds": 3600},
                },
            )
        ],
    )
    def post(self, request: Request) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        security: dict[str, Any] = body.validated_data.get("securitySettings") or _DEFAULT_SECURITY
        signed = signature_create(
            account=request_account(request),
            query_string=body.validated_data["queryString"],
            enable_nonce=security["enableNonce"],
            expiration_enabled=security["expirationEnabled"],
            expiration_in_seconds=security["expirationInSeconds"],
        )
        output = {
            "signature": signed.signature,
            "signedQueryString": signed.signed_query_string,
            "expiration": signed.expiration,
            "nonce": signed.nonce,
        }
        return Response(self.OutputSerializer(output).data)


class SignatureValidateView(APIView):
    class InputSerializer(StrictSerializer):
        class Meta:
            ref_name = "SignatureValidate"  # a unique OpenAPI component name

        # No length of its own (the request body's limit applies): a result redirect may exceed a link's 8000.
        queryString = QueryStringField(max_length=None)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SignatureValidateResponse"  # a unique OpenAPI component name

        result = serializers.ChoiceField(choices=[outcome.value for outcome in Outcome])

    @extend_schema(
        summary="Validate Signature",
        description=(
            "Checks a signed query string (a hosted link from Create Signature, or the query string of a result "
            "redirect) in the order signature -> expiration -> nonce; `result` is `Valid` or the first failing "
            "check: `InvalidSignature`, `InvalidExpiration`, `Expired`, `InvalidNonce`, `NonceAlreadyUsed`. "
            "Read-only: it never consumes a nonce. A query string without a single canonical meaning "
            "(malformed escapes, a repeated parameter, `reSignature` not last) gets 400."
        ),
        request=InputSerializer,
        responses={200: OutputSerializer, **ERROR_RESPONSES(400, 401)},
    )
    def post(self, request: Request) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        outcome = signature_validate(account=request_account(request), query_string=body.validated_data["queryString"])
        return Response({"result": outcome.value})


class SigningSecretsSerializer(serializers.Serializer):
    secret = serializers.CharField()
    previousSecrets = serializers.ListField(child=serializers.DictField())


def _secrets_body(account: Account) -> dict[str, Any]:
    current, *previous = signing_secrets_valid(account=account)
    overlap = timedelta(seconds=int(settings.SIGNING_SECRET_OVERLAP_SECONDS))
    return {
        "secret": signing_secret_value(secret=current),
        "previousSecrets": [
            {
                "secret": signing_secret_value(secret=old),
                "validUntil": int((old.retired_at + overlap).timestamp()),
            }
            for old in previous
            if old.retired_at is not None  # always: these are the retired ones
        ],
    }


class SigningSecretView(APIView):
    @extend_schema(
        summary="Get the signing secret",
        description=(
            "The account's current signing secret (for signing links and validating result redirects locally; "
            "keep it on your server) and any rotated-out secrets still valid, with `validUntil` (UTC Unix seconds)."
        ),
        responses={200: SigningSecretsSerializer, **ERROR_RESPONSES(401)},
    )
    def get(self, request: Request) -> Response:
        return Response(_secrets_body(request_account(request)))


class SigningSecretRotateView(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SigningSecretRotate"  # a unique OpenAPI component name

        revokePrevious = StrictBooleanField(required=False, default=False)

    @extend_schema(
        summary="Rotate the signing secret",
        description=(
            "Starts a new signing secret. Signatures made with the previous one stay valid for the configured "
            "overlap (`SIGNING_SECRET_OVERLAP_SECONDS`), unless `revokePrevious` is true."
        ),
        request=InputSerializer,
        responses={200: SigningSecretsSerializer, **ERROR_RESPONSES(400, 401)},
    )
    def post(self, request: Request) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        signing_secret_rotate(account=request_account(request), revoke_previous=body.validated_data["revokePrevious"])
        return Response(_secrets_body(request_account(request)))


class AllowedRedirectOriginsView(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AllowedRedirectOrigins"

        allowedRedirectOrigins = _OriginListField()

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AllowedRedirectOriginsResponse"

        allowedRedirectOrigins = serializers.ListField(child=serializers.CharField())

    @extend_schema(
        summary="Get the allowed redirect origins",
        description="Origins a session may redirect to when its configuration allows redirect overrides.",
        responses={200: OutputSerializer, **ERROR_RESPONSES(401)},
    )
    def get(self, request: Request) -> Response:
        return Response({"allowedRedirectOrigins": list(request_account(request).allowed_redirect_origins or [])})

    @extend_schema(
        summary="Replace the allowed redirect origins",
        description=(
            "Replaces the list (at most 50). Each entry is a bare origin such as `https://shop.example` or "
            "`https://shop.example:8443`; it is stored normalised (lower case, default port dropped)."
        ),
        request=InputSerializer,
        responses={200: OutputSerializer, **ERROR_RESPONSES(400, 401)},
    )
    def put(self, request: Request) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        origins = allowed_redirect_origins_set(
            account=request_account(request), origins=body.validated_data["allowedRedirectOrigins"]
        )
        return Response({"allowedRedirectOrigins": origins})
