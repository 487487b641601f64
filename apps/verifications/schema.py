"""OpenAPI examples of the verification API (the Service API document's own).

Every request example works as shown against the demo account (``manage.py demo_setup`` then
``manage.py verification_examples_setup``, which ``scripts/run`` both runs): the update
example's ``verificationId`` is the stored verification that command keeps for the demo.
Names are unique per account, so the update example (which renames it to "Test Verification")
answers 409 once the create example has taken that name. ``tests/core/test_swagger_examples.py``
sends each one.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample

SEED_CONFIG: dict[str, Any] = {
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
SEED_ID = "39e00c96-6431-4b2e-8707-2fb80e561fbf"
SEED_NAME = "Test Verification"
# The demo's stored verification at SEED_ID: not SEED_NAME, so the create example (which takes SEED_NAME) works too.
DEMO_NAME = "Demo verification"
# The document's update example turns face recognition off.
SEED_UPDATE_CONFIG: dict[str, Any] = {
    **SEED_CONFIG,
    "verifierConfigs": {**SEED_CONFIG["verifierConfigs"], "faceRecognition": {"type": "Disabled"}},
}

WRITE_EXAMPLES = [
    OpenApiExample(
        "Service API example",
        value={"name": SEED_NAME, "verificationConfig": SEED_CONFIG},
        request_only=True,
    )
]
UPDATE_EXAMPLES = [
    OpenApiExample(
        "Service API example",
        value={"name": SEED_NAME, "verificationConfig": SEED_UPDATE_CONFIG, "verificationId": SEED_ID},
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
                "verificationId": SEED_ID,
                "name": SEED_NAME,
                "verificationConfig": SEED_CONFIG,
            }
        },
        response_only=True,
        status_codes=["200"],
    )
]
