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

if not 1_000 <= ILIVE_CAPTCHA_MAX_NUMBER <= 10_000_000:
    raise ImproperlyConfigured("ILIVE_CAPTCHA_MAX_NUMBER must lie in [1000, 10000000]")
if not 10 <= ILIVE_CAPTCHA_EXPIRES_SECONDS <= 3600:
    raise ImproperlyConfigured("ILIVE_CAPTCHA_EXPIRES_SECONDS must lie in [10, 3600]")
