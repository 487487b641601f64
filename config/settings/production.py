"""Production settings: everything from the environment, nothing insecure by default."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from .base import *
from .base import DEBUG, INSECURE_DEV_SECRET_KEY, SECRET_KEY, setting

if DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production (unset DEBUG or set DEBUG=false).")
if not SECRET_KEY or SECRET_KEY == INSECURE_DEV_SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY is required in production (or SECRET_KEY_FILE).")
if len(str(SECRET_KEY)) < 32:
    raise ImproperlyConfigured("SECRET_KEY is malformed: use at least 32 characters.")

if WEBHOOK_ALLOW_LOOPBACK:
    raise ImproperlyConfigured("WEBHOOK_ALLOW_LOOPBACK is for tests only.")

DEMO_MODE = setting("DEMO_MODE", False, bool)
ALLOW_HTTP_OUTBOUND = setting("ALLOW_HTTP_OUTBOUND", False, bool)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# HTTPS only, by default. Behind a proxy that terminates TLS and redirects itself, set SECURE_SSL_REDIRECT=false
# (and SECURE_HSTS_SECONDS=0 when the proxy sends Strict-Transport-Security); docs/operations.md.
SECURE_SSL_REDIRECT = setting("SECURE_SSL_REDIRECT", True, bool)
# Load balancers probe health, and Prometheus scrapes each web process (its token guards /metrics), over plain
# HTTP inside the network: a redirect would read as "down".
SECURE_REDIRECT_EXEMPT = [r"^v1/healthz$", r"^v1/readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = setting("SECURE_HSTS_SECONDS", 31_536_000, int)
if SECURE_HSTS_SECONDS < 0:
    raise ImproperlyConfigured("Setting SECURE_HSTS_SECONDS is malformed: use 0 (no header) or more seconds")
SECURE_HSTS_INCLUDE_SUBDOMAINS = setting("SECURE_HSTS_INCLUDE_SUBDOMAINS", True, bool)
SECURE_HSTS_PRELOAD = setting("SECURE_HSTS_PRELOAD", True, bool)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = False
