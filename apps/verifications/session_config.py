"""A verificationConfig as frozen, typed values: what sessions, faces and the redirects read.

The JSON is stored as it always was (``Session.config``, ``VerificationConfig.config``:
the normalised form the serializers produce) and parsed here, once per loaded row,
into ``SessionConfig``. Every default lives here, once: a block or key missing from
an older row reads as the serializers' default (liveness, when absent altogether,
as the services always read it: Verification with Balanced challenges).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from apps.core.languages import LOCALES

from .branding import BrandingConfig
from .enums import (
    AGE_PRESET_YEARS,
    CHALLENGE_COUNTS,
    RESULT_PARAMETER_FLAGS,
    SESSION_OVERRIDE_FLAGS,
    USER_RECOGNITION_TYPES,
    AgeDirection,
    AgeType,
    ChallengeType,
    FaceRecognitionType,
    GenderType,
    LivenessType,
)

DEFAULT_AGE_THRESHOLD = 18
# Face recognition modes that identify the user by the session's external id (reExternalId).
EXTERNAL_ID_MODES = frozenset({FaceRecognitionType.MATCH_VERIFICATION, FaceRecognitionType.UNIQUE_MATCH_VERIFICATION})


@functools.cache
def _snake(name: str) -> str:
    """``includeAge`` -> ``include_age``: the attribute that holds one camelCase flag."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _block(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def _url(block: Mapping[str, Any], key: str) -> str | None:
    return str(block[key]) if block.get(key) else None


# --- verifierConfigs -------------------------------------------------------------------------


def _number(block: Mapping[str, Any], key: str) -> float | None:
    value = block.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class LivenessConfig:
    type: LivenessType = LivenessType.VERIFICATION
    challenge_type: ChallengeType = ChallengeType.BALANCED
    pass_threshold: float | None = None  # None: the engine's (LIVENESS_PASS_THRESHOLD)
    retry_threshold: float | None = None  # None: the engine's (LIVENESS_RETRY_THRESHOLD)

    @classmethod
    def from_json(cls, block: Mapping[str, Any]) -> LivenessConfig:
        return cls(
            type=LivenessType(block.get("type") or LivenessType.VERIFICATION),
            challenge_type=ChallengeType(block.get("challengeType") or ChallengeType.BALANCED),
            pass_threshold=_number(block, "passThreshold"),
            retry_threshold=_number(block, "retryThreshold"),
        )

    @property
    def enabled(self) -> bool:
        return self.type != LivenessType.DISABLED

    @property
    def challenge_count(self) -> int:
        """How many random active challenges a capture asks for (0: passive, or liveness disabled)."""
        return CHALLENGE_COUNTS[self.challenge_type] if self.enabled else 0


def _age_threshold(block: Mapping[str, Any]) -> int:
    threshold, preset = block.get("threshold"), block.get("preset")
    if isinstance(threshold, int) and not isinstance(threshold, bool):
        return threshold
    return AGE_PRESET_YEARS.get(str(preset), DEFAULT_AGE_THRESHOLD)


@dataclass(frozen=True)
class AgeConfig:
    type: AgeType = AgeType.DISABLED
    threshold: int = DEFAULT_AGE_THRESHOLD
    direction: AgeDirection = AgeDirection.ABOVE
    margin: int | None = None  # None: the AGE_MARGIN_YEARS setting

    @classmethod
    def from_json(cls, block: Mapping[str, Any]) -> AgeConfig:
        margin = block.get("margin")
        # "thresholdDirection": how rows written before the field was renamed spell it.
        direction = block.get("direction") or block.get("thresholdDirection") or AgeDirection.ABOVE
        return cls(
            type=AgeType(block.get("type") or AgeType.DISABLED),
            threshold=_age_threshold(block),
            direction=AgeDirection(direction),
            margin=margin if isinstance(margin, int) and not isinstance(margin, bool) else None,
        )

    @property
    def enabled(self) -> bool:
        return self.type != AgeType.DISABLED


@dataclass(frozen=True)
class GenderConfig:
    type: GenderType = GenderType.DISABLED

    @classmethod
    def from_json(cls, block: Mapping[str, Any]) -> GenderConfig:
        return cls(type=GenderType(block.get("type") or GenderType.DISABLED))

    @property
    def enabled(self) -> bool:
        return self.type != GenderType.DISABLED


@dataclass(frozen=True)
class FaceRecognitionConfig:
    type: FaceRecognitionType = FaceRecognitionType.DISABLED
    collection_id: str | None = None
    similarity_threshold: float | None = None  # None: the engine's own

    @classmethod
    def from_json(cls, block: Mapping[str, Any]) -> FaceRecognitionConfig:
        collection_id = block.get("collectionId")
        return cls(
            type=FaceRecognitionType(block.get("type") or FaceRecognitionType.DISABLED),
            collection_id=str(collection_id) if collection_id else None,
            similarity_threshold=_number(block, "similarityThreshold"),
        )

    @property
    def searches_users(self) -> bool:
        """Identify and Recovery: the account's users (apps.users), not a collection."""
        return self.type in USER_RECOGNITION_TYPES

    @property
    def enabled(self) -> bool:
        return self.type != FaceRecognitionType.DISABLED

    @property
    def needs_external_id(self) -> bool:
        return self.type in EXTERNAL_ID_MODES

    @property
    def must_match(self) -> bool:
        """Every mode but CalculationOnly decides on a comparison: without one the session cannot pass."""
        return self.enabled and self.type != FaceRecognitionType.CALCULATION_ONLY


@dataclass(frozen=True)
class CommonSettings:
    fail_on_multiple_faces: bool = False
    show_consent_screen: bool = True
    max_attempts: int | None = None  # None: the SESSION_MAX_ATTEMPTS setting
    locale: str | None = None  # the hosted page's language (apps.core.languages.LOCALES); None: Accept-Language

    @classmethod
    def from_json(cls, block: Mapping[str, Any]) -> CommonSettings:
        attempts, locale = block.get("maxAttempts"), block.get("locale")
        valid = isinstance(attempts, int) and not isinstance(attempts, bool) and attempts >= 1
        return cls(
            fail_on_multiple_faces=bool(block.get("failOnMultipleFacesDetected", False)),
            show_consent_screen=block.get("showConsentScreen") is not False,
            max_attempts=attempts if valid else None,
            locale=locale if isinstance(locale, str) and locale in LOCALES else None,
        )


@dataclass(frozen=True)
class VerifierConfigs:
    liveness: LivenessConfig = LivenessConfig()
    age: AgeConfig = AgeConfig()
    gender: GenderConfig = GenderConfig()
    face_recognition: FaceRecognitionConfig = FaceRecognitionConfig()
    common: CommonSettings = CommonSettings()

    @classmethod
    def from_json(cls, block: Mapping[str, Any]) -> VerifierConfigs:
        return cls(
            liveness=LivenessConfig.from_json(_block(block, "liveness")),
            age=AgeConfig.from_json(_block(block, "age")),
            gender=GenderConfig.from_json(_block(block, "gender")),
            face_recognition=FaceRecognitionConfig.from_json(_block(block, "faceRecognition")),
            common=CommonSettings.from_json(_block(block, "commonSettings")),
        )

    @property
    def estimates_age(self) -> bool:
        # Recovery compares the estimate with the user's stored date of birth, with or without an age block.
        return self.age.enabled or self.face_recognition.type == FaceRecognitionType.RECOVERY

    @property
    def wants_age_gender(self) -> bool:
        return self.estimates_age or self.gender.enabled


# --- The other blocks --------------------------------------------------------------------------


@dataclass(frozen=True)
class RedirectConfig:
    passed_url: str | None = None
    failed_url: str | None = None

    @classmethod
    def from_json(cls, block: Mapping[str, Any]) -> RedirectConfig:
        return cls(passed_url=_url(block, "passedUrl"), failed_url=_url(block, "failedUrl"))

    def target(self, *, passed: bool) -> str | None:
        return self.passed_url if passed else self.failed_url

    def to_json(self) -> dict[str, str | None]:
        return {"passedUrl": self.passed_url, "failedUrl": self.failed_url}


@dataclass(frozen=True)
class ResultParameterConfig:
    """Which ``re*`` parameters the result redirect carries; one attribute per flag of RESULT_PARAMETER_FLAGS."""

    include_signature: bool = False
    include_session_id: bool = False
    include_face_id: bool = False
    include_age: bool = False
    include_gender: bool = False
    include_verification_result: bool = False
    include_custom_input_parameters: bool = False
    include_liveness_check_result: bool = False
    include_age_verification_result: bool = False
    include_gender_verification_result: bool = False
    include_face_recognition_result: bool = False
    include_correlation_id: bool = False
    include_total_face_count: bool = False
    include_failed_reason: bool = False

    @classmethod
    def from_json(cls, block: Mapping[str, Any]) -> ResultParameterConfig:
        return cls(**{_snake(flag): bool(block.get(flag)) for flag in RESULT_PARAMETER_FLAGS})

    def to_json(self) -> dict[str, bool]:
        """Every flag under its API name, in the documented order."""
        values = asdict(self)
        return {flag: values[_snake(flag)] for flag in RESULT_PARAMETER_FLAGS}


@dataclass(frozen=True)
class SecurityConfig:
    force_signed_input: bool = False

    @classmethod
    def from_json(cls, block: Mapping[str, Any]) -> SecurityConfig:
        return cls(force_signed_input=bool(block.get("forceSignedInput")))


@dataclass(frozen=True)
class SessionOverrideConfig:
    """Which blocks a create-session call or a hosted link may override (see SESSION_OVERRIDE_FLAGS)."""

    allow_verifier_overrides: bool = False
    allow_result_parameter_overrides: bool = False
    allow_redirect_overrides: bool = False
    allow_webhook_overrides: bool = False

    @classmethod
    def from_json(cls, block: Mapping[str, Any]) -> SessionOverrideConfig:
        return cls(**{_snake(flag): bool(block.get(flag)) for flag in SESSION_OVERRIDE_FLAGS.values()})

    def allows(self, block: str) -> bool:
        """Whether the block named ``block`` (``verifierConfigs``, ``redirectConfig``, ...) may be overridden."""
        flag = SESSION_OVERRIDE_FLAGS.get(block)
        return flag is not None and bool(getattr(self, _snake(flag)))


@dataclass(frozen=True)
class WebhookConfig:
    event_callback_url: str | None = None

    @classmethod
    def from_json(cls, block: Mapping[str, Any]) -> WebhookConfig:
        return cls(event_callback_url=_url(block, "eventCallbackUrl"))


@dataclass(frozen=True)
class SessionConfig:
    """A whole verificationConfig (a session's frozen effective one, or a stored one)."""

    verifiers: VerifierConfigs = VerifierConfigs()
    redirect: RedirectConfig = RedirectConfig()
    result_parameters: ResultParameterConfig = ResultParameterConfig()
    security: SecurityConfig = SecurityConfig()
    overrides: SessionOverrideConfig = SessionOverrideConfig()
    webhook: WebhookConfig = WebhookConfig()
    branding: BrandingConfig = field(default_factory=BrandingConfig)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> SessionConfig:
        data = data if isinstance(data, Mapping) else {}
        return cls(
            verifiers=VerifierConfigs.from_json(_block(data, "verifierConfigs")),
            redirect=RedirectConfig.from_json(_block(data, "redirectConfig")),
            result_parameters=ResultParameterConfig.from_json(_block(data, "resultParameterConfig")),
            security=SecurityConfig.from_json(_block(data, "securityConfig")),
            overrides=SessionOverrideConfig.from_json(_block(data, "sessionOverrideConfig")),
            webhook=WebhookConfig.from_json(_block(data, "webhookConfig")),
            branding=BrandingConfig.from_json(_block(data, "brandingConfig")),
        )


def session_config_cached(owner: object, data: Any) -> SessionConfig:
    """``data`` (``owner``'s config JSON) parsed once: cached on ``owner`` while it holds that same JSON object.

    Loading the row again (``refresh_from_db``) or assigning a new config replaces the
    object, so the next read parses again; a config is never edited in place.
    """
    cached = owner.__dict__.get("_typed_config")
    if cached is None or cached[0] is not data:
        cached = (data, SessionConfig.from_json(data))
        owner.__dict__["_typed_config"] = cached
    return cached[1]


# The attributes above are the API's flags, one for one: a flag added to the enums needs its attribute here.
assert [f.name for f in fields(ResultParameterConfig)] == [_snake(flag) for flag in RESULT_PARAMETER_FLAGS]
assert [f.name for f in fields(SessionOverrideConfig)] == [_snake(f) for f in SESSION_OVERRIDE_FLAGS.values()]
