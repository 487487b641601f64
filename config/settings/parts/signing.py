"""Settings owned by the signing area. Read from the environment once; see config/env.py."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from config.env import setting

# How long a rotated-out signing secret still validates signatures. The default
# matches the longest link lifetime (expirationInSeconds <= 604800), so rotating
# never breaks a link that was valid when it was issued; set 0 after a leak.
SIGNING_SECRET_OVERLAP_SECONDS = setting("SIGNING_SECRET_OVERLAP_SECONDS", 604800, int)
# Lifetime (reExpiration) of the signed parameters on a result redirect.
SIGNING_RESULT_EXPIRATION_SECONDS = setting("SIGNING_RESULT_EXPIRATION_SECONDS", 3600, int)
# Sessions one client address may open per hour through UNSIGNED hosted links (configs
# without forceSignedInput), and through signed ones: a signed link without a nonce can be
# opened again until it expires, so it has a limit of its own, higher because a shared
# address (an office, a carrier's NAT) may hold many users with links of their own.
HOSTED_LINK_UNSIGNED_PER_HOUR = setting("HOSTED_LINK_UNSIGNED_PER_HOUR", 30, int)
HOSTED_LINK_SIGNED_PER_HOUR = setting("HOSTED_LINK_SIGNED_PER_HOUR", 300, int)

if SIGNING_SECRET_OVERLAP_SECONDS < 0:
    raise ImproperlyConfigured("Setting SIGNING_SECRET_OVERLAP_SECONDS is malformed: it must be >= 0")
if not 1 <= SIGNING_RESULT_EXPIRATION_SECONDS <= 604800:
    raise ImproperlyConfigured("Setting SIGNING_RESULT_EXPIRATION_SECONDS is malformed: it must be in 1..604800")

for _name in ("HOSTED_LINK_UNSIGNED_PER_HOUR", "HOSTED_LINK_SIGNED_PER_HOUR"):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"Setting {_name} is malformed: it must be >= 1")

# Scheduled rotation: an account's signing secret older than this many days is rotated (the old one keeps
# validating for SIGNING_SECRET_OVERLAP_SECONDS); 0 turns it off.
SIGNING_SECRET_ROTATION_DAYS = setting("SIGNING_SECRET_ROTATION_DAYS", 0, int)
if SIGNING_SECRET_ROTATION_DAYS < 0:
    raise ImproperlyConfigured("Setting SIGNING_SECRET_ROTATION_DAYS is malformed: it must be >= 0")

BEAT_SCHEDULE: dict[str, dict] = {
    "signing-purge-used-nonces": {"task": "apps.signing.tasks.used_nonces_purge", "schedule": 3600.0},
    "signing-secrets-rotate": {"task": "apps.signing.tasks.signing_secrets_rotate_due", "schedule": 3600.0},
}
