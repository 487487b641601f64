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
SECURE_SSL_REDIRECT = setting("SECURE_SSL_REDIRECT", False, bool)
SECURE_HSTS_SECONDS = setting("SECURE_HSTS_SECONDS", 0, int)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = False
