"""Liveproof settings, driven by the environment.

With no environment variables at all the service runs as one process on its
embedded default: SQLite, the in-memory channel layer and in-process (eager)
Celery tasks. ``DATABASE_URL`` and ``REDIS_URL`` switch to PostgreSQL, Redis as
Celery broker/result store and channels-redis, with separate worker processes.
Every value is read here once; malformed values fail at start-up.
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.env import absolute_base_url, env, rate_setting, setting

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

DEBUG = setting("DEBUG", False, bool)
# A development-only key: production settings refuse to start without SECRET_KEY.
INSECURE_DEV_SECRET_KEY = "insecure-dev-key-liveproof-change-me-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105
SECRET_KEY = setting("SECRET_KEY", INSECURE_DEV_SECRET_KEY)
ALLOWED_HOSTS = setting("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"], list)
CSRF_TRUSTED_ORIGINS = setting("CSRF_TRUSTED_ORIGINS", [], list)
PUBLIC_BASE_URL = absolute_base_url("PUBLIC_BASE_URL", str(setting("PUBLIC_BASE_URL", "http://127.0.0.1:8000")))
DEMO_MODE = setting("DEMO_MODE", True, bool)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "csp",
    "axes",
    "django_ratelimit",
    "corsheaders",
    "apps.core",
    "apps.audit",
    "apps.accounts",
    "apps.verifications",
    "apps.signing",
    "apps.webhooks",
    "apps.faces",
    "apps.users",
    "apps.sessions",
    "apps.ilive",
]

MIDDLEWARE = [
    # First: the probes answer before the host check (apps/core/middleware.py ProbeMiddleware).
    "apps.core.middleware.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Only the key-less iLive routes (CORS_URLS_REGEX), before anything that may answer them (a 413, say).
    "corsheaders.middleware.CorsMiddleware",
    "apps.core.csp.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "apps.core.middleware.ApiBodySizeMiddleware",
    "apps.core.middleware.BodyCharsetMiddleware",
    "apps.core.middleware.AdminNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "apps.core.middleware.ApiErrorMiddleware",
    "apps.audit.context.AuditActorMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it answers a locked-out admin login.
    "axes.middleware.AxesMiddleware",
]

# Admin messages in the session, not a cookie: "New key … (shown only once)" carries the plaintext key, and the
# cookie storage is signed, not encrypted.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
# Read through setting() like every other value, so DATABASE_URL_FILE names a file holding the URL.
_DATABASE_URL = str(setting("DATABASE_URL", f"sqlite:///{VAR_DIR / 'liveproof.sqlite3'}"))
try:
    DATABASES = {"default": env.db_url_config(_DATABASE_URL)}
except Exception as exc:  # django-environ raises several types for a bad URL
    raise ImproperlyConfigured(f"Setting DATABASE_URL is malformed: {exc}") from exc
if not str(DATABASES["default"].get("ENGINE", "")).startswith("django.db.backends."):
    raise ImproperlyConfigured("Setting DATABASE_URL is malformed: unknown database scheme")
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", 0)
# PostgreSQL through a pool of this many connections per process (0: none, a new connection whenever a thread
# needs one, closed at the end of its request).
DATABASE_POOL_SIZE = setting("DATABASE_POOL_SIZE", 8, int)
# Threads per web process that run HTTP requests (apps/core/asgi.py): a request waits on the event loop for one.
WEB_THREADS = setting("WEB_THREADS", 16, int)
if WEB_THREADS < 1:
    raise ImproperlyConfigured("Setting WEB_THREADS is malformed: use 1 or more")
# Threads per API process (config.serve_api, WSGI) that run HTTP requests. Fewer than the web process's: every
# runnable thread contends for the GIL; on 2 cores 4 answered more requests a second than 8 or 16, at a lower p95
# (docs/benchmarks.md). 004's /verif/submit holds its thread while its video is analysed: send it to the web
# process (docs/operations.md, "The API process").
API_THREADS = setting("API_THREADS", 4, int)
if API_THREADS < 1:
    raise ImproperlyConfigured("Setting API_THREADS is malformed: use 1 or more")
# Seconds the API process waits for its worker to stop after SIGTERM or SIGINT before it kills it. Without a bound,
# granian waits forever, and a worker can miss the stop: Ctrl-C (SIGINT to the whole process group) on a loaded
# machine left granian 2.8.9's worker waiting for a shutdown that never came in 6 stops of 13 (docs/operations.md).
API_WORKER_STOP_SECONDS = setting("API_WORKER_STOP_SECONDS", 10, int)
if API_WORKER_STOP_SECONDS < 1:
    raise ImproperlyConfigured("Setting API_WORKER_STOP_SECONDS is malformed: use 1 or more")
if DATABASE_POOL_SIZE < 0:
    raise ImproperlyConfigured("Setting DATABASE_POOL_SIZE is malformed: use 0 or more")
if (
    DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    and DATABASE_POOL_SIZE
    and not DATABASES["default"]["CONN_MAX_AGE"]
):
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {"min_size": 1, "max_size": DATABASE_POOL_SIZE}
# SQLite (the embedded default) serialises writers: wait for the lock instead of failing at once, and take it when
# a transaction begins. A transaction that read first and then wrote could not wait: while another connection was
# committing, SQLite refused it at once with "database is locked" whatever the timeout (the hand-off code's
# redemption answered 500 so, tests/core/test_sqlite_writers.py).
SQLITE_OPTIONS = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(SQLITE_OPTIONS)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: broker, results, channel layer, cache -------------------------------
REDIS_URL = str(setting("REDIS_URL", ""))
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured("Setting REDIS_URL is malformed: it must start with redis://, rediss:// or unix://")

# channels-redis waits for a socket's next message in a BZPOPMIN that blocks up to 5 s; redis-py's default
# read timeout is also 5 s, so an idle socket died with TimeoutError. The layer's reads wait longer than that.
CHANNELS_REDIS_BLOCK_SECONDS = 5
CHANNEL_LAYER_SOCKET_TIMEOUT_SECONDS = setting("CHANNEL_LAYER_SOCKET_TIMEOUT_SECONDS", 30.0, float)
if CHANNEL_LAYER_SOCKET_TIMEOUT_SECONDS <= CHANNELS_REDIS_BLOCK_SECONDS:
    raise ImproperlyConfigured(
        f"Setting CHANNEL_LAYER_SOCKET_TIMEOUT_SECONDS is malformed: it must exceed {CHANNELS_REDIS_BLOCK_SECONDS} s"
    )

if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": CHANNEL_LAYER_SOCKET_TIMEOUT_SECONDS}],
                "capacity": 200,
                "expiry": 30,
            },
        }
    }
    CACHES: dict[str, dict[str, Any]] = {
        "default": {"BACKEND": "apps.core.cache.SharedRedisCache", "LOCATION": REDIS_URL}
    }
else:
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # locmem culls a third of its entries once it holds MAX_ENTRIES (300 by default): with a few keys per
    # capture (state, JPEGs, key embeddings, lock) and per client (rate limits), a few dozen sessions would
    # lose captures mid-way. Entries still expire with their timeouts.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "liveproof",
            "OPTIONS": {"MAX_ENTRIES": 200_000},
        }
    }

CELERY_TASK_EAGER_PROPAGATES = True
# Without Celery workers nobody runs beat: the ASGI process then runs CELERY_BEAT_SCHEDULE itself
# (apps/core/periodic.py). On by default exactly on the embedded default.
PERIODIC_JOBS_IN_PROCESS = setting("PERIODIC_JOBS_IN_PROCESS", not REDIS_URL, bool)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ROUTES = {
    # Same-person key-frame descriptors: a low-priority worker (Procfile "keys"), off the frames' path.
    "apps.sessions.tasks.key_frame_embed": {"queue": "keys"},
    "apps.sessions.tasks.*": {"queue": "frames"},
    "apps.webhooks.tasks.*": {"queue": "webhooks"},
}

# --- Internationalisation, static files -------------------------------------------
LANGUAGE_CODE = "en-us"
# The languages of the hosted pages (docs/languages.md); catalogues in locale/, compiled at install.
LANGUAGES = [
    ("en", "English"),
    ("de", "Deutsch"),
    ("fr", "Français"),
    ("es", "Español"),
    ("pt-br", "Português (Brasil)"),
    ("ar", "العربية"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = setting("MEDIA_ROOT", str(VAR_DIR / "media"))
WHITENOISE_USE_FINDERS = True

# --- API ------------------------------------------------------------------------
# Bodies larger than this under /v1/ get 413 before any parsing happens.
API_MAX_BODY_BYTES = setting("API_MAX_BODY_BYTES", 256 * 1024, int)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(int(API_MAX_BODY_BYTES), 2_621_440)
API_TOKEN_TTL_SECONDS = setting("API_TOKEN_TTL_SECONDS", 900, int)
# Each process keeps keys that authenticated this long (apps/accounts/key_cache.py); 0: every request reads the
# database. Any change to a key or an account is seen at once regardless: it bumps a version in the shared cache.
API_KEY_CACHE_SECONDS = setting("API_KEY_CACHE_SECONDS", 5, int)
if not 0 <= API_KEY_CACHE_SECONDS <= 300:
    raise ImproperlyConfigured("Setting API_KEY_CACHE_SECONDS is malformed: use 0..300 seconds")
# JSON bodies nested deeper than this are refused (400 malformed_json); the deepest documented body nests 5 levels.
API_MAX_JSON_DEPTH = setting("API_MAX_JSON_DEPTH", 32, int)
if not 8 <= API_MAX_JSON_DEPTH <= 500:
    raise ImproperlyConfigured("Setting API_MAX_JSON_DEPTH is malformed: use 8..500 levels")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.ApiKeyAuthentication",
        "apps.accounts.authentication.BearerTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["apps.accounts.authentication.IsAccount"],
    "DEFAULT_PARSER_CLASSES": ["apps.core.parsers.BoundedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "apps.core.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "apps.core.schema.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS: dict[str, Any] = {  # drf-spectacular's settings: values of many types
    "TITLE": "Liveproof API",
    "DESCRIPTION": "Self-hosted face liveness and identity verification.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI is served by the app itself (no CDN).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {},
}

# --- Security -----------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
# Pages that may be framed say so themselves (the hosted page: CSP frame-ancestors and its own X-Frame-Options).
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Every HTML page (hosted pages, admin, Swagger) gets this policy from django-csp; a page that needs more or
# less says so with csp_update/csp_replace. Scripts and sockets come only from this service: connect-src names
# its own origin and the ws(s):// form of it, never ws:/wss: to any host.
_PUBLIC = urlsplit(PUBLIC_BASE_URL)
PUBLIC_SOCKET_ORIGIN = f"{'wss' if _PUBLIC.scheme == 'https' else 'ws'}://{_PUBLIC.netloc}"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        # The nonce is added only on pages whose template asks for one (the selfie-ID page's accent colour).
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:", "blob:"],
        "media-src": [SELF, "blob:"],
        "connect-src": [SELF, PUBLIC_SOCKET_ORIGIN],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# http:// webhook and redirect targets are refused unless this is on (local development, tests).
ALLOW_HTTP_OUTBOUND = setting("ALLOW_HTTP_OUTBOUND", DEBUG, bool)

# --- Metrics (docs/operations.md, "Metrics") ---------------------------------------------------------------------
# GET /metrics answers 404 until this is set, then 401 without "Authorization: Bearer <METRICS_TOKEN>".
METRICS_TOKEN = str(setting("METRICS_TOKEN", ""))
if METRICS_TOKEN and len(METRICS_TOKEN) < 16:
    raise ImproperlyConfigured("Setting METRICS_TOKEN is malformed: use at least 16 characters")
# prometheus-client's multiprocess mode reads PROMETHEUS_MULTIPROC_DIR itself; a missing directory would fail the
# first metric a process counts, so it is checked here, at start-up.
PROMETHEUS_MULTIPROC_DIR = str(setting("PROMETHEUS_MULTIPROC_DIR", ""))
if PROMETHEUS_MULTIPROC_DIR and not Path(PROMETHEUS_MULTIPROC_DIR).is_dir():
    raise ImproperlyConfigured(
        f"Setting PROMETHEUS_MULTIPROC_DIR is malformed: {PROMETHEUS_MULTIPROC_DIR!r} is not a directory"
    )
if PROMETHEUS_MULTIPROC_DIR and os.environ.get("PROMETHEUS_MULTIPROC_DIR") != PROMETHEUS_MULTIPROC_DIR:
    # From PROMETHEUS_MULTIPROC_DIR_FILE: the library reads only the variable, once, as it is first imported (after
    # these settings: the apps import it), and forked workers inherit it from here.
    if "prometheus_client" in sys.modules:
        raise ImproperlyConfigured(
            "Setting PROMETHEUS_MULTIPROC_DIR is malformed: prometheus_client was imported before the settings, "
            "so it cannot come from PROMETHEUS_MULTIPROC_DIR_FILE; set the variable itself"
        )
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = PROMETHEUS_MULTIPROC_DIR

# --- Rate limits and lockouts (docs/operations.md, "Rate limits and lockouts") ------------------
# Counted by django-ratelimit in the default cache (Redis when REDIS_URL is set). IPv6 clients are counted by
# network: one subscriber usually holds a whole /64.
RATELIMIT_USE_CACHE = "default"
RATELIMIT_IPV6_MASK = setting("RATE_LIMIT_IPV6_PREFIX_BITS", 64, int)
if not 32 <= RATELIMIT_IPV6_MASK <= 128:
    raise ImproperlyConfigured("Setting RATE_LIMIT_IPV6_PREFIX_BITS is malformed: use 32..128")
# Failed API-key or token authentications, per client address and per key prefix; then 429 until the window ends.
API_AUTH_FAILURES_PER_ADDRESS = rate_setting("API_AUTH_FAILURES_PER_ADDRESS", "20/10m")
API_AUTH_FAILURES_PER_KEY = rate_setting("API_AUTH_FAILURES_PER_KEY", "10/10m")
# Admin login lockout (django-axes): after this many failures an address, and a user name, are locked out.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = setting("ADMIN_LOGIN_FAILURES", 10, int)
AXES_COOLOFF_TIME = timedelta(minutes=setting("ADMIN_LOCKOUT_MINUTES", 30, int))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
# Behind proxies (``python -m config.serve --proxy-headers`` sets PROXY_HEADERS): the client is the X-Forwarded-For
# entry PROXY_HOPS from the right, the one the outermost of our proxies appended (apps/core/client_address.py).
PROXY_HEADERS = setting("PROXY_HEADERS", False, bool)
PROXY_HOPS = setting("PROXY_HOPS", 1, int)
if PROXY_HOPS < 1:
    raise ImproperlyConfigured("Setting PROXY_HOPS is malformed: use 1 or more")
# The address as every other limit counts it: an IPv6 client by its network (RATE_LIMIT_IPV6_PREFIX_BITS).
AXES_CLIENT_IP_CALLABLE = "apps.core.ratelimits.axes_client_address"
AXES_RESET_ON_SUCCESS = True
if AXES_FAILURE_LIMIT < 1 or AXES_COOLOFF_TIME.total_seconds() < 60:
    raise ImproperlyConfigured("ADMIN_LOGIN_FAILURES (>= 1) or ADMIN_LOCKOUT_MINUTES (>= 1) is malformed")
SILENCED_SYSTEM_CHECKS = [
    # "Not officially supported": Django's own RedisCache, whose incr is Redis's atomic INCRBY.
    "django_ratelimit.W001",
    # "Not a shared cache": the embedded default is one process, so its local memory is the whole cache.
    *([] if REDIS_URL else ["django_ratelimit.E003"]),
]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

# A level name in any case (info, INFO); anything else would only fail later, in django.setup(), without a name.
LOG_LEVEL = str(setting("LOG_LEVEL", "INFO")).strip().upper()
if LOG_LEVEL not in logging.getLevelNamesMapping():
    raise ImproperlyConfigured("Setting LOG_LEVEL is malformed: use DEBUG, INFO, WARNING, ERROR or CRITICAL")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}

# --- Per-area settings: each area owns one module in config/settings/parts/ -----------
from .parts import accounts, audit, faces, sessions, signing, users, verifications, webhooks  # noqa: E402
from .parts.audit import *  # noqa: E402
from .parts.engine import *  # noqa: E402
from .parts.faces import *  # noqa: E402
from .parts.ilive import *  # noqa: E402
from .parts.sessions import *  # noqa: E402
from .parts.signing import *  # noqa: E402
from .parts.users import *  # noqa: E402
from .parts.verifications import *  # noqa: E402
from .parts.webhooks import *  # noqa: E402

CELERY_BEAT_SCHEDULE = {
    **accounts.BEAT_SCHEDULE,
    **audit.BEAT_SCHEDULE,
    **sessions.BEAT_SCHEDULE,
    **faces.BEAT_SCHEDULE,
    **signing.BEAT_SCHEDULE,
    **users.BEAT_SCHEDULE,
    **verifications.BEAT_SCHEDULE,
    **webhooks.BEAT_SCHEDULE,
}

SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(verifications.VERIFICATIONS_ENUM_NAME_OVERRIDES)
