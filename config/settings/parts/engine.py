"""Settings owned by the engine area. Read from the environment once; see config/env.py."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from config.env import setting

BEAT_SCHEDULE: dict[str, dict] = {}

# --- Face engine ------------------------------------------------------------------
FACE_ENGINE = setting("FACE_ENGINE", "auto")
if FACE_ENGINE not in ("auto", "dlib", "insightface", "mediapipe"):
    raise ImproperlyConfigured("Setting FACE_ENGINE is malformed: use auto, dlib, insightface or mediapipe")
INSIGHTFACE_HOME = setting("INSIGHTFACE_HOME", "var/insightface")
INSIGHTFACE_PACK = setting("INSIGHTFACE_PACK", "buffalo_l")
LIVENESS_PASS_THRESHOLD = setting("LIVENESS_PASS_THRESHOLD", 0.70, float)
LIVENESS_RETRY_THRESHOLD = setting("LIVENESS_RETRY_THRESHOLD", 0.45, float)

if not 0.0 <= LIVENESS_RETRY_THRESHOLD <= LIVENESS_PASS_THRESHOLD <= 1.0:
    raise ImproperlyConfigured("LIVENESS_RETRY_THRESHOLD <= LIVENESS_PASS_THRESHOLD must both lie in [0, 1]")
# Frame limits (bytes and pixels per side) and how often the tracker re-detects faces.
FACE_ENGINE_MAX_FRAME_BYTES = setting("FACE_ENGINE_MAX_FRAME_BYTES", 1_500_000, int)
FACE_ENGINE_MAX_SIDE_PIXELS = setting("FACE_ENGINE_MAX_SIDE_PIXELS", 4096, int)
FACE_ENGINE_REDETECT_EVERY = setting("FACE_ENGINE_REDETECT_EVERY", 10, int)
if FACE_ENGINE_REDETECT_EVERY < 1:
    raise ImproperlyConfigured("FACE_ENGINE_REDETECT_EVERY must be at least 1")
