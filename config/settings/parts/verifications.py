"""Settings owned by the verifications area. Read from the environment once; see config/env.py."""

from __future__ import annotations

from config.env import setting  # noqa: F401

BEAT_SCHEDULE: dict[str, dict] = {}

# OpenAPI component names for the verificationConfig enums (several are all called `type` on the wire).
# Merged into SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] by config.settings.base.
VERIFICATIONS_ENUM_NAME_OVERRIDES: dict[str, str] = {
    "LivenessTypeEnum": "apps.verifications.enums.LivenessType",
    "ChallengeTypeEnum": "apps.verifications.enums.ChallengeType",
    "AgeTypeEnum": "apps.verifications.enums.AgeType",
    "AgeDirectionEnum": "apps.verifications.enums.AgeDirection",
    "GenderTypeEnum": "apps.verifications.enums.GenderType",
    "FaceRecognitionTypeEnum": "apps.verifications.enums.FaceRecognitionType",
    "AgePresetEnum": "apps.verifications.enums.AgePreset",
}
