"""Bounds of the numeric settings of a verificationConfig (docs/api.md, docs/entry.md)."""

from __future__ import annotations

AGE_THRESHOLD_MIN = 1
AGE_THRESHOLD_MAX = 120
AGE_MARGIN_MAX = 20
# Liveness confidence thresholds a config may set (the engine's defaults are 0.70 and 0.45).
LIVENESS_PASS_MIN = 0.5
LIVENESS_RETRY_MIN = 0.2
LIVENESS_THRESHOLD_MAX = 0.99
# Face similarity (0..1) from which two faces are one person (dlib's own is 0.5).
SIMILARITY_THRESHOLD_MIN = 0.3
SIMILARITY_THRESHOLD_MAX = 0.95
