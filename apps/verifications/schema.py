"""OpenAPI examples of the verification API (the Service API document's own)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample

_SEED_CONFIG: dict[str, Any] = {
    "verifierConfigs": {
        "liveness": {"type": "Verification", "challengeType": "Balanced"},
        "age": {"type": "CalculationOnly"},
        "faceRecognition": {"type": "DuplicateVerification", "collectionId": "my-collection"},
        "gender": {"type": "CalculationOnly"},
    },
    "redirectConfig": {
        "passedUrl": "https://example.com?result=passed",
        "failedUrl": "https://example.com?result=failed",
    },
    "resultParameterConfig": {
        "includeSignature": True,
        "includeSessionId": True,
        "includeFaceId": True,
        "includeAge": True,
        "includeGender": True,
        "includeVerificationResult": True,
        "includeCustomInputParameters": True,
        "includeLivenessCheckResult": True,
        "includeAgeVerificationResult": True,
        "includeGenderVerificationResult": False,
        "includeFaceRecognitionResult": True,
        "includeCorrelationId": True,
        "includeTotalFaceCount": True,
        "includeFailedReason": True,
    },
    "securityConfig": {"forceSignedInput": True},
    "sessionOverrideConfig": {
        "allowVerifierOverrides": True,
        "allowResultParameterOverrides": False,
        "allowRedirectOverrides": False,
    },
    "webhookConfig": {"eventCallbackUrl": "https://your-server.example.com/webhook"},
}
_SEED_ID = "39e00c96-6431-4b2e-8707-2fb80e561fbf"
# The document's update example turns face recognition off.
_SEED_UPDATE_CONFIG: dict[str, Any] = {
    **_SEED_CONFIG,
    "verifierConfigs": {**_SEED_CONFIG["verifierConfigs"], "faceRecognition": {"type": "Disabled"}},
}

WRITE_EXAMPLES = [
    OpenApiExample(
        "Service API example",
        value={"name": "Test Verification", "verificationConfig": _SEED_CONFIG},
        request_only=True,
    )
]
UPDATE_EXAMPLES = [
    OpenApiExample(
        "Service API example",
        value={"name": "Test Verification", "verificationConfig": _SEED_UPDATE_CONFIG, "verificationId": _SEED_ID},
        request_only=True,
    )
]
GET_EXAMPLES = [
    OpenApiExample(
        "Service API example",
        value={
            "verification": {
                "created": "2025-11-07T00:00:00Z",
                "lastModified": "2025-11-07T00:00:00Z",
                "verificationId": _SEED_ID,
                "name": "Test Verification",
                "verificationConfig": _SEED_CONFIG,
            }
        },
        response_only=True,
        status_codes=["200"],
    )
]
