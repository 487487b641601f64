"""The session console: read-only sessions with every attempt, its signal timeline and thumbnails, and links.

Operators look, services write: nothing here changes a session. Filters by status,
verdict, reason, engine and date; search by session id, externalId and faceId.
"""

from __future__ import annotations

import uuid
from typing import Any, get_args

from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from apps.core.paginators import EstimatedCountPaginator
from apps.face_engine.types import CaptureMode, EngineName, VerdictName
from apps.verifications.enums import VerifierResult
from apps.webhooks.models import WebhookDelivery

from ..models import AttemptThumbnail, Session, SessionAttempt
from . import charts, dashboard
from .display import json_html, outcomes_html, reasons_text, scores_html
from .filters import AttemptReasonFilter, ReasonFilter, fixed_values_filter

_THUMB = (
    '<figure class="lp-thumb"><img src="{0}" alt="{1} frame at {2} s" height="96">'
    "<figcaption>{1} {2} s</figcaption></figure>"
)


class AttemptInline(admin.StackedInline):
    model = SessionAttempt
    extra = 0
    can_delete = False
    fields = ("summary", "reasons_shown", "scores_shown", "challenge_outcomes_shown", "timeline_chart", "thumbs")
    readonly_fields = fields
    ordering = ["number"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="attempt")
    def summary(self, obj: SessionAttempt) -> str:
        took = f"{(obj.ended_at - obj.started_at).total_seconds():.1f} s" if obj.started_at else "—"
        challenges = ", ".join(obj.challenges) or "none (passive)"
        engine = obj.engine or "—"
        return f"#{obj.number}: {obj.outcome} · {obj.frames} frames in {took} · challenges: {challenges} · {engine}"

    @admin.display(description="reasons")
    def reasons_shown(self, obj: SessionAttempt) -> str:
        return reasons_text(obj.reasons)

    @admin.display(description="scores")
    def scores_shown(self, obj: SessionAttempt) -> SafeString:
        return scores_html(obj.scores)

    @admin.display(description="challenges")
    def challenge_outcomes_shown(self, obj: SessionAttempt) -> SafeString:
        return outcomes_html(obj.challenge_outcomes)

    @admin.display(description="signal timeline")
    def timeline_chart(self, obj: SessionAttempt) -> SafeString:
        if not obj.timeline:
            return format_html('<span class="quiet">{}</span>', "none (no frames, or cleared by retention)")
        url = reverse("admin:capture_session_timeline", args=[obj.session_id, obj.number])
        return format_html(
            '<a href="{}"><img class="lp-timeline" src="{}" alt="Signal timeline of attempt {}" width="800"></a>',
            url, url, obj.number,
        )  # fmt: skip

    @admin.display(description="key frames")
    def thumbs(self, obj: SessionAttempt) -> SafeString:
        kept = list(obj.thumbnails.only("id", "t", "kind"))
        if not kept:
            return format_html('<span class="quiet">{}</span>', "none (kept for the result retention window only)")
        return format_html_join(
            " ",
            _THUMB,
            ((reverse("admin:capture_session_thumbnail", args=[th.pk]), th.kind, f"{th.t:.1f}") for th in kept),
        )


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = (
        "id", "account", "status", "verdict", "verification_result", "reasons", "engine", "attempt", "created_at",
    )  # fmt: skip
    # Fixed choices, not the field's own filter: that lists the values in use with a SELECT DISTINCT over every
    # session (hundreds of ms at 200,000 sessions) on each page of the list. By date: list_filter's created_at
    # (today, past 7 days, ...), not a date hierarchy, whose links are a DISTINCT of every session's date.
    list_filter = (
        "status",
        fixed_values_filter("verdict", get_args(VerdictName)),
        fixed_values_filter("verification_result", (VerifierResult.PASS, VerifierResult.FAIL)),
        ReasonFilter,
        AttemptReasonFilter,
        fixed_values_filter("engine", get_args(EngineName)),
        fixed_values_filter("mode", get_args(CaptureMode)),
        "created_at",
    )
    search_fields = ("id", "external_id", "face_id", "account__name")
    # The unfiltered count is the page count's already: a filtered list does not count every session again.
    show_full_result_count = False
    paginator = EstimatedCountPaginator  # no COUNT(*) of the whole table for the unfiltered list
    list_select_related = ("account",)
    inlines = [AttemptInline]
    fieldsets = (
        (None, {"fields": ("id", "account", "status", "mode", "verification_result", "reasons", "webhook_deliveries")}),
        (
            "Results",
            {
                "fields": (
                    "verdict",
                    "liveness_result",
                    "age_result",
                    "gender_result",
                    "face_recognition_result",
                    "estimated_age",
                    "estimated_gender",
                    "face_id",
                    "total_face_count",
                    "confidence",
                    "scores_shown",
                    "challenge_outcomes_shown",
                    "icao_checks_shown",
                )
            },
        ),
        ("Integrator", {"fields": ("name", "external_id", "verification_id", "custom_parameters_shown")}),
        (
            "Time",
            {
                "fields": (
                    "created_at",
                    "started_at",
                    "attempt_started_at",
                    "completed_at",
                    "expires_at",
                    "personal_data_purged_at",
                    "attempt",
                    "max_attempts",
                    "challenges",
                )
            },
        ),
        (
            "Engine and configuration",
            {"fields": ("engine", "model_versions_shown", "config_shown"), "classes": ["collapse"]},
        ),
    )
    change_list_template = "admin/capture/session/change_list.html"

    class Media:
        css = {"all": ("capture/console.css",)}

    def get_readonly_fields(self, request: HttpRequest, obj: Session | None = None) -> list[str]:
        return [str(name) for _, block in self.fieldsets for name in block["fields"]]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Session | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Session | None = None) -> bool:
        return False  # a session goes with its retention, its user's deletion or its account

    def get_queryset(self, request: HttpRequest) -> QuerySet[Session]:
        return super().get_queryset(request).defer("icao_jpeg")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Session], search_term: str
    ) -> tuple[QuerySet[Session], bool]:
        """A whole UUID (with or without dashes) matches a session id or a faceId exactly; else as the fields say."""
        term = search_term.strip()
        try:
            value = uuid.UUID(term)
        except ValueError:
            return super().get_search_results(request, queryset, term)
        return queryset.filter(Q(id=value) | Q(face_id__in=[term, value.hex, str(value)])), False

    # --- readable fields -------------------------------------------------------------------------

    @admin.display(description="reasons")
    def reasons(self, obj: Session) -> str:
        return reasons_text(obj.verification_failed_reasons)

    @admin.display(description="scores")
    def scores_shown(self, obj: Session) -> SafeString:
        return scores_html(obj.scores)

    @admin.display(description="challenge outcomes")
    def challenge_outcomes_shown(self, obj: Session) -> SafeString:
        return outcomes_html(obj.challenge_outcomes)

    @admin.display(description="ICAO checks")
    def icao_checks_shown(self, obj: Session) -> SafeString:
        return outcomes_html(obj.icao_checks)

    @admin.display(description="custom input parameters")
    def custom_parameters_shown(self, obj: Session) -> SafeString:
        return json_html(obj.custom_input_parameters)

    @admin.display(description="model versions")
    def model_versions_shown(self, obj: Session) -> SafeString:
        return json_html(obj.model_versions)

    @admin.display(description="verification config (as frozen for this session)")
    def config_shown(self, obj: Session) -> SafeString:
        return json_html(obj.config)

    @admin.display(description="webhook deliveries")
    def webhook_deliveries(self, obj: Session) -> SafeString:
        by_status = dict(
            WebhookDelivery.objects.filter(event__session_id=obj.id)
            .values_list("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        )
        url = reverse("admin:webhooks_webhookdelivery_changelist") + f"?event__session_id={obj.id}"
        if not by_status:
            return format_html('<a href="{}">{}</a>', url, "none")
        summary = ", ".join(f"{n} {status}" for status, n in sorted(by_status.items()))
        return format_html('<a href="{}" id="webhook-deliveries">{} ({})</a>', url, sum(by_status.values()), summary)

    # --- the timeline, thumbnails and dashboard ------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        own = [
            path("dashboard/", self.admin_site.admin_view(dashboard.view(self)), name="capture_session_dashboard"),
            path(
                "dashboard/rates.svg",
                self.admin_site.admin_view(dashboard.rates_chart(self)),
                name="capture_session_rates",
            ),
            path(
                "<uuid:session_id>/attempts/<int:number>/timeline.svg",
                self.admin_site.admin_view(self.timeline_view),
                name="capture_session_timeline",
            ),
            path(
                "thumbnails/<int:pk>.jpg",
                self.admin_site.admin_view(self.thumbnail_view),
                name="capture_session_thumbnail",
            ),
        ]
        return own + super().get_urls()

    def timeline_view(self, request: HttpRequest, session_id: uuid.UUID, number: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise Http404
        attempt = SessionAttempt.objects.filter(session_id=session_id, number=number).first()
        if attempt is None:
            raise Http404
        title = f"Session {session_id} · attempt {number} · {attempt.outcome}"
        return charts.svg_response(charts.timeline_svg(attempt.timeline, title=title))

    def thumbnail_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise Http404
        thumb = AttemptThumbnail.objects.filter(pk=pk).first()
        if thumb is None:
            raise Http404
        response = HttpResponse(bytes(thumb.jpeg), content_type="image/jpeg")
        response["Cache-Control"] = "private, no-store"
        return response
