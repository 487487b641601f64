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
    IDENTIFY = (
        "Identify",
        "Identify: passwordless sign-in; 1:N search among the account's enrolled users (no collectionId); passes "
        "only when exactly one user matches",
    )
    RECOVERY = (
        "Recovery",
        "Recovery: account recovery; needs the session's entryUserId; passes only on a 1:1 match with that user's "
        "face (and, when stored, a dateOfBirth the estimate agrees with)",
    )


# Face recognition types that search the account's users (apps.users), not a collection.
USER_RECOGNITION_TYPES = frozenset({FaceRecognitionType.IDENTIFY, FaceRecognitionType.RECOVERY})


class AgePreset(models.TextChoices):
    """Named age thresholds; each sets ``threshold`` (direction Above)."""

    OVER_13 = "Over13", "Over13: 13, COPPA (US children's privacy)"
    OVER_16 = "Over16", "Over16: 16, GDPR digital consent in much of the EU"
    OVER_18 = "Over18", "Over18: 18, alcohol, gambling, adult content"
    OVER_21 = "Over21", "Over21: 21, alcohol in the US"
    OVER_25 = "Over25", "Over25: 25, Challenge 25 retail policies"


AGE_PRESET_YEARS: dict[str, int] = {
    AgePreset.OVER_13: 13,
    AgePreset.OVER_16: 16,
    AgePreset.OVER_18: 18,
    AgePreset.OVER_21: 21,
    AgePreset.OVER_25: 25,
}


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
    "AgePresetEnum": AgePreset,
}
