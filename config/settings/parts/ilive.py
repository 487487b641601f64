"""Settings of the iLive compatibility layer (002): the direct-session API's CAPTCHA and limits."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from config.env import setting

# 002: "Enable CAPTCHA for public-facing deployments". A self-hosted ALTCHA proof of work, no third party.
ILIVE_CAPTCHA_ENABLED = setting("ILIVE_CAPTCHA_ENABLED", True, bool)
# The proof of work's range: a browser tries up to this many SHA-256 hashes (100 000: well under a second).
ILIVE_CAPTCHA_MAX_NUMBER = setting("ILIVE_CAPTCHA_MAX_NUMBER", 100_000, int)
# A challenge must be solved and spent within this many seconds; each solution is accepted once.
ILIVE_CAPTCHA_EXPIRES_SECONDS = setting("ILIVE_CAPTCHA_EXPIRES_SECONDS", 300, int)
# Challenges one client address may fetch per hour (fetching is cheap; this only stops hoarding).
ILIVE_CAPTCHA_CHALLENGES_PER_HOUR = setting("ILIVE_CAPTCHA_CHALLENGES_PER_HOUR", 120, int)
# Direct sessions per client address per hour: POST /api/v1/session shares DIRECT_SESSIONS_PER_HOUR with /direct/.

# 002's direct session is made "directly via the API" by the integrator's frontend, on another origin: its
# four key-less routes answer cross-origin requests (django-cors-headers; no cookies). "*" (the default) or a
# comma-separated list of origins such as https://app.example.
ILIVE_CORS_ORIGINS = setting("ILIVE_CORS_ORIGINS", ["*"], list)
CORS_URLS_REGEX = r"^/api/v1/(session|session/[0-9a-fA-F-]{36}/(result|photo)|captcha/challenge)$"
CORS_ALLOW_ALL_ORIGINS = ILIVE_CORS_ORIGINS == ["*"]
CORS_ALLOWED_ORIGINS = [] if CORS_ALLOW_ALL_ORIGINS else [origin.rstrip("/") for origin in ILIVE_CORS_ORIGINS]
CORS_ALLOW_METHODS = ["GET", "POST", "OPTIONS"]
CORS_ALLOW_CREDENTIALS = False

if not 1_000 <= ILIVE_CAPTCHA_MAX_NUMBER <= 10_000_000:
    raise ImproperlyConfigured("ILIVE_CAPTCHA_MAX_NUMBER must lie in [1000, 10000000]")
if ILIVE_CAPTCHA_CHALLENGES_PER_HOUR < 1:
    raise ImproperlyConfigured("Setting ILIVE_CAPTCHA_CHALLENGES_PER_HOUR is malformed: it must be >= 1")
if not 10 <= ILIVE_CAPTCHA_EXPIRES_SECONDS <= 3600:
    raise ImproperlyConfigured("ILIVE_CAPTCHA_EXPIRES_SECONDS must lie in [10, 3600]")
