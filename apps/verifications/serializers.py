"""Strict, reusable serializers for every block of a ``verificationConfig``.

Strict means: JSON types are never coerced (``"true"`` is not a boolean, ``1``
is not a string), unknown keys are rejected at every level (a typo such as
``includeAgee`` must not pass silently), and ``null`` is refused (omit a field
instead). Validated data is *normalised*: every optional block and flag is
filled with its documented default, so consumers never test for presence.

The sessions area reuses ``VerifierConfigsSerializer``, ``WebhookConfigSerializer``,
``RedirectConfigSerializer``, ``ResultParameterConfigSerializer`` and
``SessionOverrideConfigSerializer`` for ``POST /v1/verification/create-session``.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from apps.core.fields import (
    HttpUrlField,
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictFloatField,
    StrictIntegerField,
    StrictSerializer,
    StrictUUIDField,
)
from apps.core.languages import LOCALE_HELP, LOCALES
from apps.core.patterns import COLLECTION_ID_MAX_LENGTH, COLLECTION_ID_PATTERN
from apps.signing.redirects import redirect_url_problem
from apps.webhooks.ssrf import check_url_on_save

from . import enums, limits
from .branding import BrandingConfigSerializer

NAME_MAX_LENGTH = 200

# --- Strict fields ------------------------------------------------------------------


class WebhookUrlField(HttpUrlField):
    """An http(s) URL that also passes the webhooks area's outbound (SSRF) rules."""

    def to_internal_value(self, data: Any) -> str:
        url = super().to_internal_value(data)
        try:
            check_url_on_save(url)
        except ValueError as exc:
            raise ValidationError(str(exc), code="forbidden_url") from exc
        return url


# --- verifierConfigs --------------------------------------------------------------------


class LivenessConfigSerializer(StrictSerializer):
    """verifierConfigs.liveness: whether and how hard the user proves they are a live person."""

    type = StrictChoiceField(choices=enums.LivenessType.choices, help_text="Whether liveness is verified.")
    challengeType = StrictChoiceField(
        choices=enums.ChallengeType.choices,
        required=False,
        default=enums.ChallengeType.BALANCED.value,
        help_text="Passive: hold still ~3 s; Balanced: 2 random challenges; Advanced: 4. Default Balanced.",
    )
    passThreshold = StrictFloatField(
        required=False,
        min_value=limits.LIVENESS_PASS_MIN,
        max_value=limits.LIVENESS_THRESHOLD_MAX,
        help_text=f"Liveness confidence that passes ({limits.LIVENESS_PASS_MIN}..{limits.LIVENESS_THRESHOLD_MAX}); "
        "default LIVENESS_PASS_THRESHOLD.",
    )
    retryThreshold = StrictFloatField(
        required=False,
        min_value=limits.LIVENESS_RETRY_MIN,
        max_value=limits.LIVENESS_THRESHOLD_MAX,
        help_text="Liveness confidence from which a capture may be retried; at or above passThreshold there is "
        "no retry band. Default LIVENESS_RETRY_THRESHOLD.",
    )


class AgeConfigSerializer(StrictSerializer):
    """verifierConfigs.age: age estimation, optionally verified against a threshold (or a preset)."""

    schema_extra = {
        **StrictSerializer.schema_extra,
        # validate(): ThresholdVerification needs its threshold or a preset, never both.
        "anyOf": [
            {"properties": {"type": {"not": {"enum": [enums.AgeType.THRESHOLD_VERIFICATION.value]}}}},
            {"required": ["threshold"]},
            {"required": ["preset"]},
        ],
        "not": {"required": ["threshold", "preset"]},
    }

    type = StrictChoiceField(choices=enums.AgeType.choices)
    threshold = StrictIntegerField(
        required=False,
        default=None,
        min_value=limits.AGE_THRESHOLD_MIN,
        max_value=limits.AGE_THRESHOLD_MAX,
        help_text="Age in years; ThresholdVerification needs it or a preset.",
    )
    preset = StrictChoiceField(
        choices=enums.AgePreset.choices,
        required=False,
        help_text="Over13, Over16, Over18, Over21 or Over25: the threshold (13..25); instead of threshold.",
    )
    margin = StrictIntegerField(
        required=False,
        min_value=0,
        max_value=limits.AGE_MARGIN_MAX,
        help_text="Years around the threshold where an estimate decides nothing (retry with a document); "
        "default AGE_MARGIN_YEARS (5).",
    )
    direction = StrictChoiceField(
        choices=enums.AgeDirection.choices,
        required=False,
        default=enums.AgeDirection.ABOVE.value,
        help_text="Above: age >= threshold passes; Below: age < threshold passes. Default Above.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        has_threshold = attrs.get("threshold") is not None
        if "preset" in attrs and has_threshold:
            raise ValidationError({"preset": ["Send either threshold or preset, not both."]})
        if attrs["type"] == enums.AgeType.THRESHOLD_VERIFICATION and not has_threshold and "preset" not in attrs:
            raise ValidationError({"threshold": ["This field is required when type is ThresholdVerification."]})
        return attrs


class GenderConfigSerializer(StrictSerializer):
    """verifierConfigs.gender: gender estimation."""

    type = StrictChoiceField(choices=enums.GenderType.choices)


class FaceRecognitionConfigSerializer(StrictSerializer):
    """verifierConfigs.faceRecognition: search and index the face in a collection."""

    schema_extra = {
        **StrictSerializer.schema_extra,
        # validate(): every type but Disabled needs its collection.
        "anyOf": [
            {
                "properties": {
                    "type": {
                        "enum": [
                            enums.FaceRecognitionType.DISABLED.value,
                            *(t.value for t in sorted(enums.USER_RECOGNITION_TYPES)),
                        ]
                    }
                }
            },
            {"required": ["collectionId"]},
        ],
    }

    type = StrictChoiceField(choices=enums.FaceRecognitionType.choices)
    collectionId = StrictCharField(
        required=False,
        default=None,
        max_length=COLLECTION_ID_MAX_LENGTH,
        pattern=COLLECTION_ID_PATTERN,
        help_text="The face collection; required for every type except Disabled, Identify and Recovery "
        "(which search the account's users).",
    )
    similarityThreshold = StrictFloatField(
        required=False,
        min_value=limits.SIMILARITY_THRESHOLD_MIN,
        max_value=limits.SIMILARITY_THRESHOLD_MAX,
        help_text=f"Similarity (0..1) from which two faces are one person ({limits.SIMILARITY_THRESHOLD_MIN}.."
        f"{limits.SIMILARITY_THRESHOLD_MAX}) in every recognition mode; default the engine's (dlib 0.5).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        needs_collection = attrs["type"] != enums.FaceRecognitionType.DISABLED and (
            attrs["type"] not in enums.USER_RECOGNITION_TYPES
        )
        if needs_collection and attrs.get("collectionId") is None:
            raise ValidationError(
                {"collectionId": ["This field is required unless type is Disabled, Identify or Recovery."]}
            )
        return attrs


class CommonSettingsSerializer(StrictSerializer):
    """verifierConfigs.commonSettings: settings shared by every verifier."""

    failOnMultipleFacesDetected = StrictBooleanField(
        required=False,
        default=False,
        help_text="Fail the session when more than one face is seen in the frame. Default false.",
    )
    showConsentScreen = StrictBooleanField(
        required=False,
        default=True,
        help_text="Show the hosted page's consent screen before the camera starts. Default true; turn it off "
        "only when your app has already collected the user's camera and biometric consent.",
    )
    maxAttempts = StrictIntegerField(
        required=False,
        default=None,
        allow_null=False,
        min_value=1,
        max_value=10,
        help_text="How many captures a session allows before a retry verdict becomes a failure. "
        "Default: the SESSION_MAX_ATTEMPTS setting.",
    )
    locale = StrictChoiceField(choices=LOCALES, required=False, help_text=LOCALE_HELP)


_DISABLED = {"type": "Disabled"}


_SIGNS_IN_SCHEMA = {
    "required": ["faceRecognition"],
    "properties": {"faceRecognition": {"properties": {"type": {"enum": sorted(enums.USER_RECOGNITION_TYPES)}}}},
}
_LIVE_SCHEMA = {
    "required": ["liveness"],
    "properties": {"liveness": {"properties": {"type": {"enum": [enums.LivenessType.VERIFICATION.value]}}}},
}


class VerifierConfigsSerializer(StrictSerializer):
    """Which checks run. An omitted verifier is Disabled."""

    # validate(): Identify and Recovery need liveness Verification.
    schema_extra = {**StrictSerializer.schema_extra, "anyOf": [{"not": _SIGNS_IN_SCHEMA}, _LIVE_SCHEMA]}

    liveness = LivenessConfigSerializer(required=False)
    age = AgeConfigSerializer(required=False)
    gender = GenderConfigSerializer(required=False)
    faceRecognition = FaceRecognitionConfigSerializer(required=False)
    commonSettings = CommonSettingsSerializer(required=False)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        value = super().to_internal_value(data)
        # Normalise omitted verifiers by running the block's own serializer on {"type": "Disabled"},
        # so the defaults live in one place (the field declarations above).
        for name, field in self.fields.items():
            if name not in value:
                value[name] = field.run_validation({} if name == "commonSettings" else dict(_DISABLED))
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A face that signs someone in or resets their account must be live (docs/entry.md).
        signs_in = attrs["faceRecognition"]["type"] in enums.USER_RECOGNITION_TYPES
        if signs_in and attrs["liveness"]["type"] != enums.LivenessType.VERIFICATION:
            raise ValidationError({"liveness": {"type": ["Identify and Recovery need liveness type Verification."]}})
        return attrs


# --- The other blocks ---------------------------------------------------------------------


class RedirectUrlField(HttpUrlField):
    """An http(s) URL the result redirect can sign unambiguously (the signing area's rules)."""

    def to_internal_value(self, data: Any) -> str:
        url = super().to_internal_value(data)
        problem = redirect_url_problem(url)
        if problem is not None:
            raise serializers.ValidationError(problem, code="redirect_not_allowed")
        return url


class RedirectConfigSerializer(StrictSerializer):
    """Where the hosted page sends the browser when the session ends."""

    passedUrl = RedirectUrlField(required=False, default=None, help_text="Redirect target when the session passed.")
    failedUrl = RedirectUrlField(required=False, default=None, help_text="Redirect target when the session failed.")


def _flag(help_text: str) -> StrictBooleanField:
    return StrictBooleanField(required=False, default=False, help_text=help_text)


class ResultParameterConfigSerializer(StrictSerializer):
    """Which ``re*`` query parameters the result redirect carries. Every flag defaults to false."""

    includeSignature = _flag("Append reSignature, an HMAC over the other parameters.")
    includeSessionId = _flag("Append the verification session id.")
    includeFaceId = _flag("Append the faceId assigned by face recognition.")
    includeAge = _flag("Append the estimated age.")
    includeGender = _flag("Append the estimated gender.")
    includeVerificationResult = _flag("Append the overall verification result.")
    includeCustomInputParameters = _flag("Append the session's custom input parameters.")
    includeLivenessCheckResult = _flag("Append the liveness result.")
    includeAgeVerificationResult = _flag("Append the age verification result.")
    includeGenderVerificationResult = _flag("Append the gender verification result.")
    includeFaceRecognitionResult = _flag("Append the face recognition result.")
    includeCorrelationId = _flag("Append the correlation (external) id.")
    includeTotalFaceCount = _flag("Append the number of faces seen.")
    includeFailedReason = _flag("Append the failure reasons.")


assert tuple(ResultParameterConfigSerializer().fields) == enums.RESULT_PARAMETER_FLAGS


class SecurityConfigSerializer(StrictSerializer):
    """securityConfig: input integrity requirements."""

    forceSignedInput = StrictBooleanField(
        required=False,
        default=False,
        help_text="Refuse sessions whose input query string is not signed (see /v1/signature/create). Default false.",
    )


class SessionOverrideConfigSerializer(StrictSerializer):
    """Which parts of this config a create-session call may override. Every flag defaults to false."""

    allowVerifierOverrides = _flag("create-session may override verifierConfigs.")
    allowResultParameterOverrides = _flag("create-session may override resultParameterConfig.")
    allowRedirectOverrides = _flag("create-session may override redirectConfig.")
    allowWebhookOverrides = _flag("create-session may override webhookConfig (Liveproof extension).")


assert tuple(SessionOverrideConfigSerializer().fields) == tuple(enums.SESSION_OVERRIDE_FLAGS.values())


class WebhookConfigSerializer(StrictSerializer):
    """webhookConfig: where session-completed events are POSTed."""

    eventCallbackUrl = WebhookUrlField(help_text="Receives a POST when a session completes.")


class VerificationConfigSerializer(StrictSerializer):
    """The whole ``verificationConfig``; validated data is the normalised form with defaults filled."""

    verifierConfigs = VerifierConfigsSerializer()
    redirectConfig = RedirectConfigSerializer(required=False)
    resultParameterConfig = ResultParameterConfigSerializer(required=False)
    securityConfig = SecurityConfigSerializer(required=False)
    sessionOverrideConfig = SessionOverrideConfigSerializer(required=False)
    webhookConfig = WebhookConfigSerializer(required=False)
    brandingConfig = BrandingConfigSerializer(required=False)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        value = super().to_internal_value(data)
        for name, field in self.fields.items():
            if name not in value:
                value[name] = {"eventCallbackUrl": None} if name == "webhookConfig" else field.run_validation({})
        return value


# --- Whole request bodies ------------------------------------------------------------------


class VerificationNameField(StrictCharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", NAME_MAX_LENGTH)
        kwargs.setdefault("help_text", "Unique within the account.")
        super().__init__(**kwargs)


class VerificationWriteSerializer(StrictSerializer):
    """Body of create and create-or-update."""

    name = VerificationNameField()
    verificationConfig = VerificationConfigSerializer()


class VerificationUpdateSerializer(VerificationWriteSerializer):
    """Body of update: name and the whole config are replaced."""

    verificationId = StrictUUIDField(help_text="The verification to update.")


class VerificationIdQuerySerializer(serializers.Serializer):
    """The ``?verificationId=`` query parameter of get and delete."""

    verificationId = StrictUUIDField(help_text="The verification's id.")
