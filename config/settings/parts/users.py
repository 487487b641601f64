"""Settings owned by the users area (Entry users, age assurance, devices). Read from the environment once."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from config.env import setting

BEAT_SCHEDULE: dict[str, dict] = {}

# Years around an age threshold within which an estimate decides nothing (retry with a document); a config's
# verifierConfigs.age.margin overrides it.
AGE_MARGIN_YEARS = setting("AGE_MARGIN_YEARS", 5, int)
if not 0 <= AGE_MARGIN_YEARS <= 20:
    raise ImproperlyConfigured("AGE_MARGIN_YEARS must lie in 0..20")

# Devices: a session bound to a user gets "addressChange" in riskSignals when the user's previous session within
# this many minutes came from another address (0: never). No GeoIP database ships, so no distance is judged.
RISK_ADDRESS_CHANGE_MINUTES = setting("RISK_ADDRESS_CHANGE_MINUTES", 60, int)
if not 0 <= RISK_ADDRESS_CHANGE_MINUTES <= 7 * 24 * 60:
    raise ImproperlyConfigured("RISK_ADDRESS_CHANGE_MINUTES must lie in 0..10080 (a week)")
