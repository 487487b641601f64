"""Settings owned by the capture area. Read from the environment once; see config/env.py."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured

from config.env import rate_setting, setting

# Unused (and unfinished) sessions expire after this many seconds (002: 30 minutes).
SESSION_TTL_SECONDS = setting("SESSION_TTL_SECONDS", 30 * 60, int)
# The sessionToken JWT lives at most 10 minutes.
SESSION_TOKEN_TTL_SECONDS = setting("SESSION_TOKEN_TTL_SECONDS", 600, int)
# get-session-result answers 404 for sessions older than this (001: 7 days).
SESSION_RESULT_RETENTION_DAYS = setting("SESSION_RESULT_RETENTION_DAYS", 7, int)
# After this many days a session row loses its personal fields (externalId, custom parameters, estimates,
# scores, faceId); status, results, timestamps, account and config stay for aggregates.
SESSION_RETENTION_DAYS = setting("SESSION_RETENTION_DAYS", 30, int)
# How often the recovery sweep looks for sessions a killed worker left behind (verdict lost or unpublished).
SESSION_RECOVERY_SWEEP_SECONDS = setting("SESSION_RECOVERY_SWEEP_SECONDS", 2.0, float)
# Attempts per session when the config does not say (a "retry" verdict may start another one).
SESSION_MAX_ATTEMPTS = setting("SESSION_MAX_ATTEMPTS", 3, int)
# The hosted page offers help and a fresh start after this long without a usable face (docs/sessions.md).
HOSTED_PAGE_HELP_AFTER_SECONDS = setting("HOSTED_PAGE_HELP_AFTER_SECONDS", 20, int)
# Frame protocol limits.
CAPTURE_MAX_FRAME_BYTES = setting("CAPTURE_MAX_FRAME_BYTES", 1_500_000, int)
CAPTURE_MAX_FPS = setting("CAPTURE_MAX_FPS", 10, int)
# Messages of any kind (frames, pings, anything) one capture socket may send within a second; more close it (4429).
CAPTURE_MAX_MESSAGES_PER_SECOND = setting("CAPTURE_MAX_MESSAGES_PER_SECOND", 5 * CAPTURE_MAX_FPS, int)
# The web server's (daphne's, via `python -m config.serve`) cap on one WebSocket message. Above the frame limit,
# so an oversized frame still reaches the consumer and gets frameTooLarge and close 1009; beyond this cap daphne
# itself drops the connection, which bounds the memory one client can make the server hold.
WEBSOCKET_MAX_MESSAGE_BYTES = setting("WEBSOCKET_MAX_MESSAGE_BYTES", 4 * 1024 * 1024, int)
# Frames of one session sent to workers but not yet answered; more are dropped so queues never pile up
# (1 keeps the queue at one frame per session: the lowest feedback latency under load).
CAPTURE_MAX_IN_FLIGHT = setting("CAPTURE_MAX_IN_FLIGHT", 1, int)
# Admission control (apps/sessions/services/admission.py): with CAPTURE_MAX_ACTIVE > 0, a new session gets 503 and
# Retry-After while that many captures may be running, so overload makes people wait instead of failing them.
# Set it to what the frames workers serve (docs/operations.md: about 10 per frames process on the benchmark
# machine); 0 turns it off.
CAPTURE_MAX_ACTIVE = setting("CAPTURE_MAX_ACTIVE", 0, int)
CAPTURE_ADMISSION_RESERVE_SECONDS = setting("CAPTURE_ADMISSION_RESERVE_SECONDS", 20, int)
CAPTURE_ADMISSION_WINDOW_SECONDS = setting("CAPTURE_ADMISSION_WINDOW_SECONDS", 60, int)
CAPTURE_ADMISSION_RETRY_AFTER_SECONDS = setting("CAPTURE_ADMISSION_RETRY_AFTER_SECONDS", 3, int)
CAPTURE_AUTH_TIMEOUT_SECONDS = setting("CAPTURE_AUTH_TIMEOUT_SECONDS", 10, int)
# From a complete capture until its result reached the socket, the socket reads the session from the database this
# often (apps/sessions/result_watch.py): the channel layer can lose the "analysing" state or the result.
CAPTURE_RESULT_CHECK_SECONDS = setting("CAPTURE_RESULT_CHECK_SECONDS", 3.0, float)
if CAPTURE_RESULT_CHECK_SECONDS <= 0:
    raise ImproperlyConfigured("Setting CAPTURE_RESULT_CHECK_SECONDS is malformed: it must be > 0")
# A frame that waited longer than this for a worker is skipped: under load, fresh frames beat old ones.
CAPTURE_STALE_FRAME_SECONDS = setting("CAPTURE_STALE_FRAME_SECONDS", 1.0, float)
# Where capture frames are analysed (docs/operations.md, "Where frames are analysed"): "worker" queues each frame
# on the frames Celery queue; "web" analyses it in a thread pool of the web process that holds the socket (sticky
# by construction, no broker hop, feedback handed straight to the socket). Either way the session's state is
# saved to Redis after every frame, so any process can die and another one picks the session up.
CAPTURE_ANALYSIS = setting("CAPTURE_ANALYSIS", "worker")
# "web": frames one web process analyses at once (1 measured best: a verdict waits behind fewer frames).
CAPTURE_ANALYSIS_THREADS = setting("CAPTURE_ANALYSIS_THREADS", 1, int)
# Feedback messages carry the frame's server-side timestamps ("timings"; bench/sessions.py reads them). Off in
# production: the timestamps are always taken (a few clock reads per frame), only not sent.
CAPTURE_FRAME_TIMINGS = setting("CAPTURE_FRAME_TIMINGS", False, bool)
# Continuous checks (the SDK's headless mode, docs/sdk.md): how long after a session passed its socket may
# keep sending samples, the shortest interval between two samples (faster ones are dropped), and how many
# changes of person / extra faces a session lists in get-session-result (the oldest go first).
SESSION_CHECK_WINDOW_SECONDS = setting("SESSION_CHECK_WINDOW_SECONDS", 3600, int)
SESSION_CHECK_MIN_INTERVAL_MS = setting("SESSION_CHECK_MIN_INTERVAL_MS", 500, int)
SESSION_CHECKS_KEPT = setting("SESSION_CHECKS_KEPT", 100, int)
# Direct sessions (002): a public page that creates its own session, off by default.
DIRECT_SESSIONS_ENABLED = setting("DIRECT_SESSIONS_ENABLED", False, bool)
DIRECT_SESSIONS_PER_HOUR = setting("DIRECT_SESSIONS_PER_HOUR", 10, int)

if DIRECT_SESSIONS_PER_HOUR < 1:
    raise ImproperlyConfigured("Setting DIRECT_SESSIONS_PER_HOUR is malformed: it must be >= 1")
if SESSION_TOKEN_TTL_SECONDS < 1 or SESSION_TOKEN_TTL_SECONDS > 600:
    raise ImproperlyConfigured("Setting SESSION_TOKEN_TTL_SECONDS is malformed: use 1..600 seconds")
if SESSION_CHECK_WINDOW_SECONDS < 0 or SESSION_CHECK_MIN_INTERVAL_MS < 100 or SESSION_CHECKS_KEPT < 1:
    raise ImproperlyConfigured(
        "Settings SESSION_CHECK_*: use a window of at least 0 s, an interval of at least 100 ms, keep at least 1"
    )
if (
    CAPTURE_MAX_ACTIVE < 0
    or min(CAPTURE_ADMISSION_RESERVE_SECONDS, CAPTURE_ADMISSION_WINDOW_SECONDS) < 1
    or not (1 <= CAPTURE_ADMISSION_RETRY_AFTER_SECONDS <= 60)
):
    raise ImproperlyConfigured(
        "Capture admission settings are malformed: CAPTURE_MAX_ACTIVE >= 0, windows >= 1 s, Retry-After 1..60 s"
    )
if CAPTURE_ANALYSIS not in ("worker", "web"):
    raise ImproperlyConfigured('Setting CAPTURE_ANALYSIS is malformed: use "worker" or "web"')
if CAPTURE_ANALYSIS_THREADS < 1:
    raise ImproperlyConfigured("Setting CAPTURE_ANALYSIS_THREADS is malformed: use at least 1")
if SESSION_TTL_SECONDS < 60:
    raise ImproperlyConfigured("Setting SESSION_TTL_SECONDS is malformed: use at least 60 seconds")
if CAPTURE_MAX_FPS < 1 or CAPTURE_MAX_FRAME_BYTES < 1024 or SESSION_MAX_ATTEMPTS < 1:
    raise ImproperlyConfigured(
        "Capture limits are malformed: check CAPTURE_MAX_FPS, CAPTURE_MAX_FRAME_BYTES and SESSION_MAX_ATTEMPTS"
    )

if CAPTURE_MAX_MESSAGES_PER_SECOND <= CAPTURE_MAX_FPS:
    raise ImproperlyConfigured(
        "Setting CAPTURE_MAX_MESSAGES_PER_SECOND is malformed: it must exceed CAPTURE_MAX_FPS (frames plus control)"
    )
if WEBSOCKET_MAX_MESSAGE_BYTES <= CAPTURE_MAX_FRAME_BYTES:
    raise ImproperlyConfigured(
        "Setting WEBSOCKET_MAX_MESSAGE_BYTES is malformed: it must exceed CAPTURE_MAX_FRAME_BYTES, or oversized "
        "frames are dropped by the server without frameTooLarge"
    )

if not 0.5 <= SESSION_RECOVERY_SWEEP_SECONDS <= 60:
    raise ImproperlyConfigured("Setting SESSION_RECOVERY_SWEEP_SECONDS is malformed: use 0.5..60 seconds")
if SESSION_RESULT_RETENTION_DAYS < 1 or SESSION_RETENTION_DAYS < SESSION_RESULT_RETENTION_DAYS:
    raise ImproperlyConfigured(
        "Setting SESSION_RETENTION_DAYS is malformed: use at least SESSION_RESULT_RETENTION_DAYS (and that >= 1) days"
    )

BEAT_SCHEDULE: dict[str, dict] = {
    "capture-sessions-expire": {
        "task": "apps.sessions.tasks.sessions_expire",
        "schedule": timedelta(minutes=1),
        # Beat runs expiry on the default queue: the frames queue is latency-critical.
        "options": {"queue": "default"},
    },
    "capture-sessions-recover": {
        "task": "apps.sessions.tasks.sessions_recover",
        "schedule": SESSION_RECOVERY_SWEEP_SECONDS,
        # A sweep not run within its interval is superseded by the next one.
        "options": {"queue": "default", "expires": SESSION_RECOVERY_SWEEP_SECONDS},
    },
    "capture-sessions-retention": {
        "task": "apps.sessions.tasks.sessions_retention_purge",
        "schedule": timedelta(hours=1),
        "options": {"queue": "default"},
    },
}

# Cross-device continuation (docs/sessions.md, "Continue on a phone"): how long a short code lives, how many codes
# one session may ask for, and how many codes one client address may try.
SESSION_HANDOFF_TTL_SECONDS = setting("SESSION_HANDOFF_TTL_SECONDS", 300, int)
SESSION_HANDOFF_CODES_PER_SESSION = rate_setting("SESSION_HANDOFF_CODES_PER_SESSION", "10/h")
SESSION_HANDOFF_TRIES_PER_ADDRESS = rate_setting("SESSION_HANDOFF_TRIES_PER_ADDRESS", "10/10m")
if not 60 <= SESSION_HANDOFF_TTL_SECONDS <= 900:
    raise ImproperlyConfigured("Setting SESSION_HANDOFF_TTL_SECONDS is malformed: use 60..900 seconds")
