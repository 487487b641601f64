"""Admin: deliveries and attempts per session and per endpoint, redeliver, send a test event, rotate secrets."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from .endpoints import webhook_endpoint_disable
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent, WebhookSecret
from .services import webhook_delivery_redeliver, webhook_endpoint_enable, webhook_test_send
from .signing_secrets import webhook_secret_rotate


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class AttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    fields = ("number", "started_at", "duration_ms", "status_code", "error", "response_excerpt")
    readonly_fields = fields


class DeliveryInline(ReadOnlyInline):
    model = WebhookDelivery
    fields = ("event", "status", "attempt_count", "last_status_code", "last_error", "next_attempt_at", "delivered_at")
    readonly_fields = fields
    ordering = ["-created_at"]


def _deliveries_link(label: str, **filters: object) -> str:
    query = "&".join(f"{key}={value}" for key, value in filters.items())
    return format_html('<a href="{}?{}">{}</a>', reverse("admin:webhooks_webhookdelivery_changelist"), query, label)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("url", "account", "disabled", "disabled_at", "deliveries")
    list_filter = ("disabled",)
    search_fields = ("url", "account__name")
    readonly_fields = ("account", "url", "disabled", "disabled_at", "disabled_reason", "created_at", "deliveries")
    # No deliveries inline: a busy endpoint has thousands; the "Deliveries" link opens the filtered list.
    actions = ["send_test_event", "enable", "disable"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # endpoints appear when a session names a URL

    @admin.display(description="Deliveries")
    def deliveries(self, obj: WebhookEndpoint) -> str:
        return _deliveries_link("show", endpoint__id__exact=obj.pk)

    @admin.action(description="Send a test event (webhook.test)", permissions=["change"])
    def send_test_event(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            try:
                delivery = webhook_test_send(account=endpoint.account, url=endpoint.url)
            except ValueError as exc:
                messages.error(request, f"{endpoint.url}: {exc}")
                continue
            messages.success(request, f"Test event {delivery.event_id} queued for {endpoint.url}.")

    @admin.action(description="Enable (accept deliveries again)", permissions=["change"])
    def enable(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            webhook_endpoint_enable(endpoint=endpoint)
        messages.success(request, f"Enabled {queryset.count()} endpoint(s).")

    @admin.action(description="Disable (stop sending)", permissions=["change"])
    def disable(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            webhook_endpoint_disable(endpoint=endpoint, reason=f"Disabled by {request.user} in the admin.")
        messages.success(request, f"Disabled {queryset.count()} endpoint(s).")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "event",
        "event_type",
        "session",
        "endpoint",
        "status",
        "attempt_count",
        "last_status_code",
        "next_attempt_at",
        "delivered_at",
    )
    list_filter = ("status", "event__type", "endpoint__disabled")
    # Search by session id, event id (webhook-id) or URL: "deliveries of this session".
    search_fields = ("=event__session_id", "=event__id", "endpoint__url", "event__account__name")
    list_select_related = ("event", "endpoint")
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields] + ["body"]
    inlines = [AttemptInline]
    actions = ["redeliver"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        if lookup in ("event__session_id", "endpoint__id__exact"):
            return True  # the "per session" and "per endpoint" links
        return super().lookup_allowed(lookup, value, request)

    @admin.display(description="Type")
    def event_type(self, obj: WebhookDelivery) -> str:
        return obj.event.type

    @admin.display(description="Session")
    def session(self, obj: WebhookDelivery) -> str:
        if not obj.event.session_id:
            return "-"
        return _deliveries_link(str(obj.event.session_id), event__session_id=obj.event.session_id)

    @admin.display(description="Body")
    def body(self, obj: WebhookDelivery) -> str:
        return obj.event.body

    @admin.action(description="Redeliver (same webhook-id, fresh retry schedule)", permissions=["change"])
    def redeliver(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        done = sum(webhook_delivery_redeliver(delivery=delivery) for delivery in queryset)
        messages.success(request, f"Queued {done} delivery(ies) again; {queryset.count() - done} were in flight.")


class AnswerFilter(admin.SimpleListFilter):
    """What the endpoint answered, by class: Django's own filter of status_code listed the codes in use, a SELECT
    DISTINCT over every attempt on each page of the list."""

    title = "answer"
    parameter_name = "answer"
    CLASSES = {"2xx": (200, 300), "3xx": (300, 400), "4xx": (400, 500), "5xx": (500, 600)}

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [*((name, name) for name in self.CLASSES), ("none", "no answer (timeout, refused, blocked)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[WebhookAttempt]) -> QuerySet[WebhookAttempt]:
        value = self.value()
        if value == "none":
            return queryset.filter(status_code__isnull=True)
        if value in self.CLASSES:
            low, high = self.CLASSES[value]
            return queryset.filter(status_code__gte=low, status_code__lt=high)
        return queryset


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(admin.ModelAdmin):
    list_display = ("delivery", "number", "started_at", "duration_ms", "status_code", "error")
    list_filter = (AnswerFilter,)
    # Newest first through the primary key: the model's order (by delivery) would sort every attempt for a page.
    ordering = ("-id",)
    search_fields = ("=delivery__event__session_id", "=delivery__event__id", "delivery__endpoint__url")
    readonly_fields = [f.name for f in WebhookAttempt._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ("id", "type", "account", "session_id", "created_at")
    list_filter = ("type",)
    search_fields = ("=id", "=session_id", "account__name")
    readonly_fields = ("id", "type", "account", "session_id", "body", "created_at")
    inlines = [DeliveryInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(WebhookSecret)
class WebhookSecretAdmin(admin.ModelAdmin):
    list_display = ("account", "created_at", "rotated_at", "previous_expires_at")
    search_fields = ("account__name",)
    readonly_fields = ("account", "secret", "previous_secret", "previous_expires_at", "created_at", "rotated_at")
    actions = ["rotate"]

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False  # rotate instead: a deleted secret is replaced unannounced, with no overlap and no audit

    def get_fields(self, request: HttpRequest, obj: Model | None = None) -> tuple[str, ...]:
        fields = [str(f) for f in self.readonly_fields]
        if not self.has_change_permission(request, obj):  # the signing secrets only to who may rotate them
            fields = [f for f in fields if f not in ("secret", "previous_secret")]
        return tuple(fields)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Rotate (old secret keeps signing during the overlap)", permissions=["change"])
    def rotate(self, request: HttpRequest, queryset: QuerySet[WebhookSecret]) -> None:
        for secret in queryset:
            webhook_secret_rotate(account=secret.account)
        messages.success(request, f"Rotated {queryset.count()} secret(s).")
