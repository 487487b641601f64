"""The audit trail and the API key's IP allow-list over the API: thin views over apps.audit and services."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.audit.models import AuditEventType
from apps.audit.selectors import (
    CURSOR_PATTERN,
    audit_event_payload,
    audit_events_csv,
    audit_events_filter,
    audit_events_page,
)
from apps.core.errors import ApplicationError
from apps.core.exceptions import validated_data
from apps.core.fields import QueryIntegerField, StrictCharField, StrictSerializer
from apps.core.schema import ERROR_RESPONSES

from .authentication import request_account, request_api_key
from .services import api_key_networks_set

_V4 = r"((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_H = "[0-9a-fA-F]{1,4}"
_V6 = (
    f"(({_H}:){{7}}{_H}|({_H}:){{1,7}}:|({_H}:){{1,6}}:{_H}|({_H}:){{1,5}}(:{_H}){{1,2}}|({_H}:){{1,4}}(:{_H}){{1,3}}"
    f"|({_H}:){{1,3}}(:{_H}){{1,4}}|({_H}:){{1,2}}(:{_H}){{1,5}}|{_H}:(:{_H}){{1,6}}|:((:{_H}){{1,7}}|:))"
)
# An IPv4 or IPv6 address with an optional prefix length: what the schema publishes and the field accepts.
NETWORK_PATTERN = rf"^({_V4}(/(3[0-2]|[12]?[0-9]))?|{_V6}(/(12[0-8]|1[01][0-9]|[1-9]?[0-9]))?)$"
_NETWORK_ERROR = {"pattern": "Not an IP network in CIDR notation (10.0.0.0/8, 2001:db8::/32, 192.0.2.7)."}
MAX_EXPORT = 10_000
MAX_NETWORKS = 50
_TAGS = ["Audit"]


class _FilterQuery(serializers.Serializer):
    type = serializers.MultipleChoiceField(choices=AuditEventType.choices, required=False)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
    subjectId = serializers.CharField(required=False, max_length=200)


class _PageQuery(_FilterQuery):
    cursor = serializers.RegexField(CURSOR_PATTERN, required=False)
    limit = QueryIntegerField(required=False, min_value=1, max_value=500, default=100)


def _filtered(request: Request, query: dict[str, Any]) -> Any:
    return audit_events_filter(
        account_id=request_account(request).pk,
        types=query.get("type") or (),
        since=query.get("since"),
        until=query.get("until"),
        subject_id=query.get("subjectId"),
    )


def _query(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    data = {
        key: request.query_params.getlist(key) if key == "type" else value
        for key, value in request.query_params.items()
    }
    return validated_data(serializer_class, data)


_FILTERS = [
    OpenApiParameter(
        "type",
        {"type": "array", "items": {"type": "string", "enum": list(AuditEventType.values)}},
        explode=True,
        description="Only these event types (repeat the parameter for several).",
    ),
    OpenApiParameter("since", OpenApiTypes.DATETIME, description="Events at or after this time."),
    OpenApiParameter("until", OpenApiTypes.DATETIME, description="Events before this time."),
    OpenApiParameter("subjectId", {"type": "string", "minLength": 1, "maxLength": 200}),
]


class AuditEventSerializer(serializers.Serializer):
    eventId = serializers.CharField()
    type = serializers.ChoiceField(choices=AuditEventType.choices)
    occurredAt = serializers.CharField()
    actor = serializers.CharField()
    address = serializers.IPAddressField(allow_null=True)
    subjectType = serializers.CharField()
    subjectId = serializers.CharField()
    details = serializers.DictField()


class AuditEventsView(APIView):
    @extend_schema(
        summary="List audit events (newest first, cursor-paged)",
        parameters=[
            *_FILTERS,
            OpenApiParameter(
                "cursor", {"type": "string", "pattern": CURSOR_PATTERN}, description="The last page's `nextCursor`."
            ),
            OpenApiParameter("limit", {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}),
        ],
        responses={
            200: inline_serializer(
                "AuditEvents",
                {"events": AuditEventSerializer(many=True), "nextCursor": serializers.CharField(allow_null=True)},
            ),
            **ERROR_RESPONSES(400, 401),
        },
        tags=_TAGS,
    )
    def get(self, request: Request) -> Response:
        query = _query(_PageQuery, request)
        page = audit_events_page(events=_filtered(request, query), cursor=query.get("cursor"), limit=query["limit"])
        return Response({"events": [audit_event_payload(e) for e in page.events], "nextCursor": page.next_cursor})


class _ExportQuery(_FilterQuery):
    # Not "format": DRF reads ?format= to pick a renderer.
    fileFormat = serializers.ChoiceField(choices=["json", "csv"], required=False, default="json")


class _NoFormatOverride(DefaultContentNegotiation):
    """JSON whatever ``?format=`` says: this view answers CSV through its own ``fileFormat``."""

    def select_renderer(self, request: Request, renderers: Any, format_suffix: str | None = None) -> Any:
        return renderers[0], renderers[0].media_type


class AuditExportView(APIView):
    content_negotiation_class = _NoFormatOverride

    @extend_schema(
        summary="Export audit events as JSON or CSV",
        description=f"The filtered events, newest first, at most {MAX_EXPORT} (narrow with since/until for more).",
        parameters=[
            *_FILTERS,
            OpenApiParameter("fileFormat", {"type": "string", "enum": ["json", "csv"], "default": "json"}),
        ],
        responses={
            (200, "application/json"): OpenApiTypes.OBJECT,
            (200, "text/csv"): OpenApiTypes.STR,
            **ERROR_RESPONSES(400, 401),
        },
        tags=_TAGS,
    )
    def get(self, request: Request) -> HttpResponse:
        query = _query(_ExportQuery, request)
        events = list(_filtered(request, query)[:MAX_EXPORT])
        if query["fileFormat"] == "csv":
            response = HttpResponse(audit_events_csv(events), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = 'attachment; filename="audit-events.csv"'
            return response
        return Response({"events": [audit_event_payload(e) for e in events]})


class AllowedNetworksView(APIView):
    class InputSerializer(StrictSerializer):
        allowedNetworks = serializers.ListField(
            child=StrictCharField(max_length=64, pattern=NETWORK_PATTERN, error_messages=_NETWORK_ERROR),
            max_length=MAX_NETWORKS,
            allow_empty=True,
        )

    _RESPONSE = inline_serializer(
        "AllowedNetworks", {"allowedNetworks": serializers.ListField(child=serializers.CharField())}
    )

    @extend_schema(
        summary="The calling API key's IP allow-list",
        responses={200: _RESPONSE, **ERROR_RESPONSES(401)},
        tags=_TAGS,
    )
    def get(self, request: Request) -> Response:
        return Response({"allowedNetworks": list(request_api_key(request).allowed_networks or [])})

    @extend_schema(
        summary="Set the calling API key's IP allow-list",
        description=(
            "CIDR networks (IPv4 or IPv6; a bare address is one host) this key may be used from; `[]` lifts the "
            "limit. Requests from elsewhere answer 403 `forbidden`. Set it from inside the list, or you lock "
            "the key out (use another key or the admin to undo)."
        ),
        request=InputSerializer,
        responses={200: _RESPONSE, **ERROR_RESPONSES(400, 401)},
        tags=_TAGS,
    )
    def put(self, request: Request) -> Response:
        body = validated_data(self.InputSerializer, request.data)
        try:
            networks = api_key_networks_set(api_key=request_api_key(request), networks=body["allowedNetworks"])
        except ValueError as exc:
            raise ApplicationError(
                "The request has invalid fields.", code="invalid", fields={"allowedNetworks": [str(exc)]}
            ) from None
        return Response({"allowedNetworks": networks})
