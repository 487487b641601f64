"""Every enumeration of a verification configuration, defined once.

Serializers, the admin, the OpenAPI schema and docs/api.md ("Enumerations") all read
these classes; the wire values are the enum values (``"Verification"``,
``"Balanced"``, ...), spelled exactly as the Service API document spells them.
"""

from __future__ import annotations

from django.db import models


class LivenessType(models.TextChoices):
    DISABLED = "Disabled", "Disabled: no liveness check"
    VERIFICATION = "Verification", "Verification: the user must pass a liveness check"


class ChallengeType(models.TextChoices):
    PASSIVE = "Passive", "Passive: hold still for about 3 seconds, no challenges"
    BALANCED = "Balanced", "Balanced: 2 random challenges"
    ADVANCED = "Advanced", "Advanced: 4 random challenges"


# How many random active challenges each challengeType asks for.
CHALLENGE_COUNTS: dict[str, int] = {
    ChallengeType.PASSIVE: 0,
    ChallengeType.BALANCED: 2,
    ChallengeType.ADVANCED: 4,
}
# Passive liveness: how long the user holds still in front of the camera.
PASSIVE_HOLD_SECONDS = 3.0


class AgeType(models.TextChoices):
    DISABLED = "Disabled", "Disabled: age is not estimated"
    CALCULATION_ONLY = "CalculationOnly", "CalculationOnly: estimate the age, never fail on it"
    THRESHOLD_VERIFICATION = (
        "ThresholdVerification",
        "ThresholdVerification: fail unless the estimated age is above/below `threshold` years",
    )


class AgeDirection(models.TextChoices):
    ABOVE = "Above", "Above: the estimated age must be at least `threshold`"
    BELOW = "Below", "Below: the estimated age must be under `threshold`"


class GenderType(models.TextChoices):
    DISABLED = "Disabled", "Disabled: gender is not estimated"
    CALCULATION_ONLY = "CalculationOnly", "CalculationOnly: estimate the gender, never fail on it"


class FaceRecognitionType(models.TextChoices):
    DISABLED = "Disabled", "Disabled: no face recognition"
    CALCULATION_ONLY = "CalculationOnly", "CalculationOnly: index the face in the collection, never fail on it"
    DUPLICATE_VERIFICATION = (
        "DuplicateVerification",
        "DuplicateVerification: fail when the face is already in the collection (one person, one account)",
    )
    UNIQUE_MATCH_VERIFICATION = (
        "UniqueMatchVerification",
        "UniqueMatchVerification: needs reExternalId; enrols an unknown id, fails a different face or one stored "
        "under another id",
    )
    MATCH_VERIFICATION = (
        "MatchVerification",
        "MatchVerification: needs reExternalId; passes only when the face matches the one stored under it",
    )


# The 14 resultParameterConfig flags, in the order the Service API document lists them.
RESULT_PARAMETER_FLAGS: tuple[str, ...] = (
    "includeSignature",
    "includeSessionId",
    "includeFaceId",
    "includeAge",
    "includeGender",
    "includeVerificationResult",
    "includeCustomInputParameters",
    "includeLivenessCheckResult",
    "includeAgeVerificationResult",
    "includeGenderVerificationResult",
    "includeFaceRecognitionResult",
    "includeCorrelationId",
    "includeTotalFaceCount",
    "includeFailedReason",
)

# Which block of a verificationConfig each sessionOverrideConfig flag lets a session override.
SESSION_OVERRIDE_FLAGS: dict[str, str] = {
    "verifierConfigs": "allowVerifierOverrides",
    "resultParameterConfig": "allowResultParameterOverrides",
    "redirectConfig": "allowRedirectOverrides",
    "webhookConfig": "allowWebhookOverrides",
}


class VerifierResult(models.TextChoices):
    """The outcome of one verifier, and of the whole session (which is never NotExecuted)."""

    PASS = "Pass", "Pass"
    FAIL = "Fail", "Fail"
    NOT_EXECUTED = "NotExecuted", "NotExecuted: the verifier is disabled, or did not run"


# Every enum that appears in the API, by the OpenAPI component name it gets.
ALL_ENUMS: dict[str, type[models.TextChoices]] = {
    "LivenessTypeEnum": LivenessType,
    "ChallengeTypeEnum": ChallengeType,
    "AgeTypeEnum": AgeType,
    "AgeDirectionEnum": AgeDirection,
    "GenderTypeEnum": GenderType,
    "FaceRecognitionTypeEnum": FaceRecognitionType,
}
