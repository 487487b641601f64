"""The typed session config: every normalised verificationConfig parses, with the serializers' defaults."""

from __future__ import annotations

from apps.verifications.enums import (
    RESULT_PARAMETER_FLAGS,
    SESSION_OVERRIDE_FLAGS,
    AgeDirection,
    AgeType,
    ChallengeType,
    FaceRecognitionType,
    LivenessType,
)
from apps.verifications.services import verification_config_parse
from apps.verifications.session_config import SessionConfig


def test_a_minimal_config_reads_as_the_serializers_fill_it():
    stored = verification_config_parse(data={"verifierConfigs": {}})
    config = SessionConfig.from_json(stored)
    # Omitted verifiers are Disabled once normalised (an absent liveness block in an old row reads as enabled).
    assert config.verifiers.liveness.type == LivenessType.DISABLED and config.verifiers.liveness.challenge_count == 0
    assert not config.verifiers.age.enabled and not config.verifiers.face_recognition.enabled
    assert config.verifiers.common.show_consent_screen and not config.verifiers.common.fail_on_multiple_faces
    assert config.verifiers.common.max_attempts is None
    assert config.redirect.target(passed=True) is None and config.webhook.event_callback_url is None
    assert config.result_parameters.to_json() == stored["resultParameterConfig"]
    assert not any(config.overrides.allows(block) for block in SESSION_OVERRIDE_FLAGS)


def test_every_block_of_a_full_config_is_typed():
    stored = verification_config_parse(
        data={
            "verifierConfigs": {
                "liveness": {"type": "Verification", "challengeType": "Advanced"},
                "age": {"type": "ThresholdVerification", "threshold": 21, "direction": "Below"},
                "gender": {"type": "CalculationOnly"},
                "faceRecognition": {"type": "MatchVerification", "collectionId": "members"},
                "commonSettings": {"failOnMultipleFacesDetected": True, "showConsentScreen": False, "maxAttempts": 5},
            },
            "redirectConfig": {"passedUrl": "https://example.com/ok", "failedUrl": "https://example.com/ko"},
            "resultParameterConfig": {"includeAge": True, "includeSignature": True},
            "securityConfig": {"forceSignedInput": True},
            "sessionOverrideConfig": {"allowRedirectOverrides": True},
        }
    )
    config = SessionConfig.from_json(stored)
    verifiers = config.verifiers
    assert verifiers.liveness.challenge_type == ChallengeType.ADVANCED and verifiers.liveness.challenge_count == 4
    assert (verifiers.age.type, verifiers.age.threshold, verifiers.age.direction) == (
        AgeType.THRESHOLD_VERIFICATION,
        21,
        AgeDirection.BELOW,
    )
    assert verifiers.wants_age_gender
    assert verifiers.face_recognition.type == FaceRecognitionType.MATCH_VERIFICATION
    assert verifiers.face_recognition.needs_external_id and verifiers.face_recognition.collection_id == "members"
    assert verifiers.common.fail_on_multiple_faces and not verifiers.common.show_consent_screen
    assert verifiers.common.max_attempts == 5
    assert config.redirect.target(passed=False) == "https://example.com/ko"
    assert config.redirect.to_json() == stored["redirectConfig"]
    included = [flag for flag, on in config.result_parameters.to_json().items() if on]
    assert included == ["includeSignature", "includeAge"]  # in the documented order
    assert list(config.result_parameters.to_json()) == list(RESULT_PARAMETER_FLAGS)
    assert config.security.force_signed_input
    assert config.overrides.allows("redirectConfig") and not config.overrides.allows("verifierConfigs")


def test_an_old_row_without_blocks_reads_with_the_long_standing_defaults():
    config = SessionConfig.from_json({"verifierConfigs": {"age": {"type": "ThresholdVerification"}}})
    assert config.verifiers.liveness.enabled and config.verifiers.liveness.challenge_count == 2
    assert config.verifiers.age.threshold == 18 and config.verifiers.age.direction == AgeDirection.ABOVE
    assert SessionConfig.from_json(None) == SessionConfig()
