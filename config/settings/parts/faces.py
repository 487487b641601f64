"""Settings owned by the faces area. Read from the environment once; see config/env.py."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured

from config.env import setting

# 004: a selfie video of at most 50 MB; ID photos and face-compare images up to 10 MB each.
VERIF_MAX_VIDEO_BYTES = setting("VERIF_MAX_VIDEO_BYTES", 50 * 1024 * 1024, int)
FACES_MAX_IMAGE_BYTES = setting("FACES_MAX_IMAGE_BYTES", 10 * 1024 * 1024, int)
# 004: uploaded files are deleted after 7 days.
VERIF_FILE_RETENTION_DAYS = setting("VERIF_FILE_RETENTION_DAYS", 7, int)
# The signed file links of a check (result, webhook) open in a browser for this long (004: a partner's browser).
VERIF_FILE_LINK_TTL_SECONDS = setting("VERIF_FILE_LINK_TTL_SECONDS", 24 * 3600, int)
# The selfie video is cut after this many seconds and sampled at this rate for passive liveness.
VERIF_MAX_VIDEO_SECONDS = setting("VERIF_MAX_VIDEO_SECONDS", 20, int)
VERIF_SAMPLE_FPS = setting("VERIF_SAMPLE_FPS", 10, int)
# /verif/submit attempts per partner and client address per hour (each check costs seconds of CPU).
VERIF_SUBMITS_PER_HOUR = setting("VERIF_SUBMITS_PER_HOUR", 30, int)
# Candidates from the cosine ranking that the engine re-checks against its own threshold.
FACES_SEARCH_CANDIDATES = setting("FACES_SEARCH_CANDIDATES", 3, int)
# Search matrices one process keeps, least recently searched out first (a million dlib faces: about 0.5 GB).
FACES_SEARCH_CACHE_MAX_BYTES = setting("FACES_SEARCH_CACHE_MAX_BYTES", 1024**3, int)

if FACES_SEARCH_CACHE_MAX_BYTES < 0:
    raise ImproperlyConfigured("FACES_SEARCH_CACHE_MAX_BYTES is malformed: use a size in bytes")
if VERIF_MAX_VIDEO_BYTES < 1 or FACES_MAX_IMAGE_BYTES < 1:
    raise ImproperlyConfigured("VERIF_MAX_VIDEO_BYTES / FACES_MAX_IMAGE_BYTES is malformed: use a positive size")
if not 60 <= VERIF_FILE_LINK_TTL_SECONDS <= 7 * 24 * 3600:
    raise ImproperlyConfigured("VERIF_FILE_LINK_TTL_SECONDS must lie in [60, 604800]")
if VERIF_FILE_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("Setting VERIF_FILE_RETENTION_DAYS is malformed: use at least 1 day")
if VERIF_SUBMITS_PER_HOUR < 1:
    raise ImproperlyConfigured("Setting VERIF_SUBMITS_PER_HOUR is malformed: it must be >= 1")
if not 1 <= VERIF_SAMPLE_FPS <= 30 or VERIF_MAX_VIDEO_SECONDS < 1 or FACES_SEARCH_CANDIDATES < 1:
    raise ImproperlyConfigured("VERIF_SAMPLE_FPS (1..30), VERIF_MAX_VIDEO_SECONDS or FACES_SEARCH_CANDIDATES malformed")

# Upload endpoints need more than the default API body limit (multipart overhead included).
API_BODY_LIMITS: dict[str, int] = {
    # Two images as base64 in JSON (4/3 of their size) plus some slack.
    "/v1/face/": 2 * FACES_MAX_IMAGE_BYTES * 4 // 3 + 1024 * 1024,
    "/verif/submit": VERIF_MAX_VIDEO_BYTES + FACES_MAX_IMAGE_BYTES + 1024 * 1024,
}

BEAT_SCHEDULE: dict[str, dict] = {
    "faces-verif-files-purge": {
        "task": "apps.faces.tasks.verif_files_purge",
        "schedule": timedelta(hours=1),
        "options": {"queue": "default"},
    },
}
