"""Verification sessions: one row per session, the source of truth for every result."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.verifications.enums import VerifierResult
from apps.verifications.session_config import SessionConfig, session_config_cached

from .tokens import page_key_create


class Session(models.Model):
    """A verification session created by an integrator (or the direct page) and run in a browser."""

    class Status(models.TextChoices):
        CREATED = "created"
        IN_PROGRESS = "in_progress"
        ANALYSING = "analysing"
        COMPLETED = "completed"
        EXPIRED = "expired"
        CANCELLED = "cancelled"

    UNFINISHED = (Status.CREATED, Status.IN_PROGRESS, Status.ANALYSING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="sessions")
    verification_id = models.UUIDField(null=True, blank=True)
    name = models.CharField(max_length=200, blank=True)
    external_id = models.CharField(max_length=200, null=True, blank=True)
    custom_input_parameters = models.JSONField(default=dict, blank=True)
    # The frozen effective verificationConfig (stored config + allowed overrides).
    config = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CREATED, db_index=True)
    mode = models.CharField(max_length=10, default="active")
    challenges = models.JSONField(default=list, blank=True)
    attempt = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=3)
    attempt_started_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    expires_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    # Verdict (written once, by a conditional UPDATE from "analysing").
    verdict = models.CharField(max_length=10, blank=True)  # engine verdict of the last attempt: pass/fail/retry
    verification_result = models.CharField(max_length=20, null=True, blank=True)  # VerifierResult: Pass | Fail
    verification_failed_reasons = models.JSONField(default=list, blank=True)
    liveness_result = models.CharField(max_length=20, null=True, blank=True)
    age_result = models.CharField(max_length=20, null=True, blank=True)
    estimated_age = models.FloatField(null=True, blank=True)
    gender_result = models.CharField(max_length=20, null=True, blank=True)
    estimated_gender = models.CharField(max_length=10, null=True, blank=True)
    face_recognition_result = models.CharField(max_length=20, null=True, blank=True)
    face_id = models.CharField(max_length=100, null=True, blank=True)
    total_face_count = models.PositiveIntegerField(null=True, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    scores = models.JSONField(default=dict, blank=True)
    challenge_outcomes = models.JSONField(default=dict, blank=True)
    engine = models.CharField(max_length=20, blank=True)
    model_versions = models.JSONField(default=dict, blank=True)
    icao_jpeg = models.BinaryField(null=True, blank=True, editable=False)
    icao_checks = models.JSONField(default=dict, blank=True)
    # Continuous checks (the SDK's headless mode): each change of person or extra face seen after the
    # session passed, oldest first (services/checks.py), at most SESSION_CHECKS_KEPT entries.
    checks = models.JSONField(default=list, blank=True)
    # Entry (003): the user a session is bound to (create-session entryUserId, Recovery) or that Identify found.
    entry_user_id = models.UUIDField(null=True, blank=True, db_index=True)
    user_similarity = models.FloatField(null=True, blank=True)
    minor = models.BooleanField(default=False)  # under 13 by the estimate or the stored date of birth
    risk_signals = models.JSONField(default=list, blank=True)
    # The browser or SDK that ran the session: a hashed device id, its address and user agent.
    device_id = models.CharField(max_length=64, blank=True)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    # The body of the session's webhooks: ours ("") or that of the adapter's API that created it ("ilive":
    # 002's result), built by what that adapter registered (apps/sessions/webhook_formats.py).
    webhook_format = models.CharField(max_length=16, blank=True)
    # Set when SESSION_RETENTION_DAYS removed the personal fields (apps/sessions/retention.py).
    personal_data_purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "expires_at"]),
            # The recovery sweep (services/recovery.py) reads the sessions finished in the last minutes, every 2 s.
            models.Index(fields=["completed_at", "id"], name="capture_session_completed_idx"),
            # The minute expiry job drops the ICAO photos past the result retention (services/lifecycle.py).
            models.Index(fields=["created_at"], name="capture_session_icao_idx", condition=Q(icao_jpeg__isnull=False)),
            # The hourly personal-data purge (retention.py) looks for the old sessions it has not cleared yet.
            models.Index(
                fields=["created_at"],
                name="capture_session_unpurged_idx",
                condition=Q(personal_data_purged_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status not in self.UNFINISHED

    @property
    def typed_config(self) -> SessionConfig:
        """``config`` as typed values, parsed once per loaded row (the stored JSON never changes after creation)."""
        return session_config_cached(self, self.config)

    @property
    def passed(self) -> bool:
        return self.verification_result == VerifierResult.PASS

    @property
    def session_url(self) -> str:
        """The hosted page for redirect integrations; carries a page key valid for the session's TTL."""
        return f"{settings.PUBLIC_BASE_URL}/s/{self.id}/?k={page_key_create(session_id=self.id)}"


class UsedSessionToken(models.Model):
    """A session-token jti that already opened a capture socket; the primary key makes reuse fail atomically."""

    jti = models.CharField(max_length=64, primary_key=True)
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="used_tokens")
    used_at = models.DateTimeField(auto_now_add=True)


class SessionAttempt(models.Model):
    """One capture attempt of a session, as its verdict (or cancel, or expiry) left it: kept for the operator.

    The session row holds only the last attempt's result; a retry used to overwrite the
    earlier one. ``timeline`` holds the engine's per-frame series and the page's per-frame
    feedback (the admin draws it); it and the scores go after SESSION_RETENTION_DAYS, the
    thumbnails after SESSION_RESULT_RETENTION_DAYS (``apps/sessions/retention.py``).
    """

    class Outcome(models.TextChoices):
        PASS = "pass"  # noqa: S105 - a verdict, not a password
        FAIL = "fail"
        RETRY = "retry"
        CANCELLED = "cancelled"
        EXPIRED = "expired"
        ABANDONED = "abandoned"  # left unfinished: the page was reloaded mid-attempt (reason ``reloaded``)

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()  # 1 for the first attempt
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    reasons = models.JSONField(default=list, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(db_index=True)
    challenges = models.JSONField(default=list, blank=True)
    frames = models.PositiveIntegerField(default=0)
    engine = models.CharField(max_length=20, blank=True)
    # Personal (what the capture showed of the person): cleared after SESSION_RETENTION_DAYS.
    confidence = models.FloatField(null=True, blank=True)
    scores = models.JSONField(default=dict, blank=True)
    challenge_outcomes = models.JSONField(default=dict, blank=True)
    timeline = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["session", "number"]
        constraints = [models.UniqueConstraint(fields=["session", "number"], name="session_attempt_unique_number")]

    def __str__(self) -> str:
        return f"attempt {self.number} ({self.outcome})"


class AttemptThumbnail(models.Model):
    """A small JPEG of a kept frame of an attempt; deleted after SESSION_RESULT_RETENTION_DAYS."""

    attempt = models.ForeignKey(SessionAttempt, on_delete=models.CASCADE, related_name="thumbnails")
    t = models.FloatField()  # seconds into the capture
    kind = models.CharField(max_length=10)  # "best" or "key"
    jpeg = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["attempt", "t"]


class SessionHandoff(models.Model):
    """A short code (shown with its QR code) that opens a session's hosted page on another device.

    Short-lived and single-use; only an HMAC of the code is stored (``services/handoff.py``).
    """

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="handoffs")
    code_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"handoff of {self.session_id}"
