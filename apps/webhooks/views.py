"""Integrator API: read and rotate the account's webhook signing secret, send a test event."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.authentication import request_account
from apps.core.errors import ApplicationError
from apps.core.fields import StrictCharField
from apps.core.patterns import HTTP_URL_PATTERN
from apps.core.schema import ERROR_RESPONSES
from apps.core.timestamps import utc_timestamp

from .models import WebhookSecret
from .services import webhook_test_send
from .signing_secrets import webhook_secret_get_or_create, webhook_secret_rotate, webhook_secrets_for_signing


class SecretOutputSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="Standard Webhooks secret (`whsec_…`) that signs every delivery.")
    previousSecret = serializers.CharField(allow_null=True)
    previousSecretExpiresAt = serializers.CharField(allow_null=True)

    class Meta:
        ref_name = "WebhookSecret"


def _secret_body(secret: WebhookSecret) -> dict:
    # The previous secret only while it still signs (its overlap after a rotation); it was shown for good.
    live = len(webhook_secrets_for_signing(secret=secret)) > 1
    return {
        "secret": secret.secret,
        "previousSecret": secret.previous_secret if live else None,
        "previousSecretExpiresAt": utc_timestamp(secret.previous_expires_at) if live else None,
    }


class WebhookSecretGetView(APIView):
    @extend_schema(
        summary="Get the webhook signing secret",
        description="Created on first use. Verify deliveries with any Standard Webhooks library.",
        responses={200: SecretOutputSerializer, **ERROR_RESPONSES(401)},
    )
    def get(self, request: Request) -> Response:
        return Response(_secret_body(webhook_secret_get_or_create(account=request_account(request))))


class WebhookSecretRotateView(APIView):
    @extend_schema(
        summary="Rotate the webhook signing secret",
        description="During the overlap every delivery carries two signatures (new and previous), space-separated.",
        request=None,
        responses={200: SecretOutputSerializer, **ERROR_RESPONSES(401)},
    )
    def post(self, request: Request) -> Response:
        return Response(_secret_body(webhook_secret_rotate(account=request_account(request))))


class WebhookTestView(APIView):
    class InputSerializer(serializers.Serializer):
        url = StrictCharField(max_length=2048, pattern=HTTP_URL_PATTERN, schema_format="uri")

        class Meta:
            ref_name = "WebhookTestInput"

    class OutputSerializer(serializers.Serializer):
        eventId = serializers.CharField()

        class Meta:
            ref_name = "WebhookTestOutput"

    @extend_schema(
        summary="Send a webhook.test event",
        request=InputSerializer,
        responses={200: OutputSerializer, **ERROR_RESPONSES(400, 401)},
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            delivery = webhook_test_send(account=request_account(request), url=serializer.validated_data["url"])
        except ValueError as exc:
            raise ApplicationError(str(exc), fields={"url": [str(exc)]}) from exc
        return Response({"eventId": delivery.event_id})
