from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

ROOT = Path(__file__).resolve().parents[2]


_SERVICES = {"SECRET_KEY", "DEBUG", "DATABASE_URL", "REDIS_URL"}


def _python(code: str, drop: set[str] = _SERVICES, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter whose environment lacks ``drop`` and has ``env``."""
    clean = {k: v for k, v in os.environ.items() if k not in drop}
    clean.update(env)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60)


def _import_settings(module: str, **env: str) -> subprocess.CompletedProcess[str]:
    return _python(f"import importlib; importlib.import_module({module!r})", **env)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "SECRET_KEY is required"),
        ({"SECRET_KEY": "x" * 50, "DEBUG": "true"}, "DEBUG must be off"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY is malformed"),
        ({"SECRET_KEY": "x" * 50, "REDIS_URL": "http://nope"}, "REDIS_URL is malformed"),
        ({"SECRET_KEY": "x" * 50, "API_MAX_BODY_BYTES": "lots"}, "API_MAX_BODY_BYTES is malformed"),
        ({"SECRET_KEY": "x" * 50, "FACE_ENGINE": "magic"}, "FACE_ENGINE is malformed"),
        ({"SECRET_KEY": "x" * 50, "DATABASE_URL": "nosuchdb://x"}, "DATABASE_URL is malformed"),
        ({"SECRET_KEY": "x" * 50, "DEBUG": "maybe"}, "DEBUG is malformed"),
        ({"SECRET_KEY": "x" * 50, "WEB_THREADS": "0"}, "WEB_THREADS is malformed"),
        ({"SECRET_KEY": "x" * 50, "API_THREADS": "0"}, "API_THREADS is malformed"),
        ({"SECRET_KEY": "x" * 50, "ALLOW_HTTP_OUTBOUND": "sometimes"}, "ALLOW_HTTP_OUTBOUND is malformed"),
        ({"SECRET_KEY": "x" * 50, "PUBLIC_BASE_URL": "notaurl"}, "PUBLIC_BASE_URL is malformed"),
        ({"SECRET_KEY": "x" * 50, "PUBLIC_BASE_URL": "ftp://id.example"}, "PUBLIC_BASE_URL is malformed"),
        (
            {"SECRET_KEY": "x" * 50, "CHANNEL_LAYER_SOCKET_TIMEOUT_SECONDS": "5"},
            "CHANNEL_LAYER_SOCKET_TIMEOUT_SECONDS is malformed",
        ),
        (
            {"SECRET_KEY": "x" * 50, "API_AUTH_FAILURES_PER_ADDRESS": "lots"},
            "API_AUTH_FAILURES_PER_ADDRESS is malformed",
        ),
        ({"SECRET_KEY": "x" * 50, "API_AUTH_FAILURES_PER_KEY": "0/10m"}, "API_AUTH_FAILURES_PER_KEY is malformed"),
        ({"SECRET_KEY": "x" * 50, "ADMIN_LOGIN_FAILURES": "0"}, "ADMIN_LOGIN_FAILURES"),
        (
            {"SECRET_KEY": "x" * 50, "API_AUTH_FAILURES_PER_ADDRESS": "20/0m"},
            "API_AUTH_FAILURES_PER_ADDRESS is malformed",
        ),
        (
            {"SECRET_KEY": "x" * 50, "SESSION_HANDOFF_TRIES_PER_ADDRESS": "20/00m"},
            "SESSION_HANDOFF_TRIES_PER_ADDRESS is malformed",
        ),
        ({"SECRET_KEY": "x" * 50, "DIRECT_SESSIONS_PER_HOUR": "-1"}, "DIRECT_SESSIONS_PER_HOUR is malformed"),
        (
            {"SECRET_KEY": "x" * 50, "ILIVE_CAPTCHA_CHALLENGES_PER_HOUR": "0"},
            "ILIVE_CAPTCHA_CHALLENGES_PER_HOUR is malformed",
        ),
        (
            {"SECRET_KEY": "x" * 50, "CAPTURE_MAX_MESSAGES_PER_SECOND": "5"},
            "CAPTURE_MAX_MESSAGES_PER_SECOND is malformed",
        ),
        (
            {"SECRET_KEY": "x" * 50, "WEBSOCKET_MAX_MESSAGE_BYTES": "1500000"},
            "WEBSOCKET_MAX_MESSAGE_BYTES is malformed",
        ),
        ({"SECRET_KEY": "x" * 50, "SESSION_RETENTION_DAYS": "3"}, "SESSION_RETENTION_DAYS is malformed"),
        ({"SECRET_KEY": "x" * 50, "CAPTURE_ANALYSIS": "gpu"}, "CAPTURE_ANALYSIS is malformed"),
        ({"SECRET_KEY": "x" * 50, "CAPTURE_ANALYSIS_THREADS": "0"}, "CAPTURE_ANALYSIS_THREADS is malformed"),
        ({"SECRET_KEY": "x" * 50, "PERIODIC_JOBS_IN_PROCESS": "often"}, "PERIODIC_JOBS_IN_PROCESS is malformed"),
        ({"SECRET_KEY": "x" * 50, "METRICS_TOKEN": "short"}, "METRICS_TOKEN is malformed"),
        ({"SECRET_KEY": "x" * 50, "LOG_LEVEL": "chatty"}, "LOG_LEVEL is malformed"),
        ({"SECRET_KEY": "x" * 50, "SECURE_HSTS_SECONDS": "-1"}, "SECURE_HSTS_SECONDS is malformed"),
        (
            {"SECRET_KEY": "x" * 50, "PROMETHEUS_MULTIPROC_DIR": "/nonexistent/dir"},
            "PROMETHEUS_MULTIPROC_DIR is malformed",
        ),
    ],
)
def test_production_settings_refuse_to_start_and_say_why(env, message):
    result = _import_settings("config.settings.production", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_settings_start_with_a_secret_key():
    result = _import_settings("config.settings.production", SECRET_KEY="k" * 50)
    assert result.returncode == 0, result.stderr


def test_the_embedded_default_needs_no_environment():
    code = (
        "import config.settings.base as s;"
        "assert s.DATABASES['default']['ENGINE'].endswith('sqlite3');"
        "assert s.CELERY_TASK_ALWAYS_EAGER;"
        "assert s.PERIODIC_JOBS_IN_PROCESS;"
        "assert s.CHANNEL_LAYERS['default']['BACKEND'].endswith('InMemoryChannelLayer')"
    )
    result = _python(code, drop={"DATABASE_URL", "REDIS_URL"})
    assert result.returncode == 0, result.stderr


def test_the_embedded_cache_keeps_the_captures_of_many_sessions():
    """locmem's default (300 entries, then a third culled) would drop capture states mid-capture."""
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings.base'; django.setup();"
        "from django.core.cache import cache;"
        "[cache.set(f'capture:state:{i}', 'x', 60) for i in range(5000)];"
        "assert cache.get('capture:state:0') == 'x', 'culled'"
    )
    result = _python(code, drop={"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"})
    assert result.returncode == 0, result.stderr


def test_database_and_redis_urls_switch_to_postgres_and_redis():
    code = (
        "import config.settings.base as s;"
        "assert s.DATABASES['default']['ENGINE'] == 'django.db.backends.postgresql';"
        "assert not s.CELERY_TASK_ALWAYS_EAGER and s.CELERY_BROKER_URL.startswith('redis://');"
        "assert s.CHANNEL_LAYERS['default']['BACKEND'] == 'channels_redis.core.RedisChannelLayer'"
    )
    result = _python(
        code, drop=set(), DATABASE_URL="postgres://u@127.0.0.1:5432/db", REDIS_URL="redis://127.0.0.1:6379/0"
    )
    assert result.returncode == 0, result.stderr


def test_production_defaults_send_webhooks_over_https_only_with_a_10_second_timeout():
    code = (
        "import config.settings.production as s;"
        "print(s.ALLOW_HTTP_OUTBOUND, s.WEBHOOK_TIMEOUT_SECONDS, s.WEBHOOK_ALLOW_LOOPBACK)"
    )
    drop = {"DATABASE_URL", "REDIS_URL", "ALLOW_HTTP_OUTBOUND", "WEBHOOK_TIMEOUT_SECONDS", "WEBHOOK_ALLOW_LOOPBACK"}
    result = _python(code, drop=drop, SECRET_KEY="k" * 50, DEBUG="false")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "10.0", "False"]


def test_each_xdist_worker_gets_its_own_redis_database():
    from config.settings.test import xdist_redis_url

    assert xdist_redis_url("redis://127.0.0.1:6379/12", "") == "redis://127.0.0.1:6379/12"
    assert xdist_redis_url("redis://127.0.0.1:6379/12", "gw0") == "redis://127.0.0.1:6379/12"
    assert xdist_redis_url("redis://127.0.0.1:6379/12", "gw3") == "redis://127.0.0.1:6379/15"
    assert xdist_redis_url("redis://:pw@redis:6379", "gw2") == "redis://:pw@redis:6379/2"
    assert xdist_redis_url("unix:///run/redis.sock", "gw1") == "unix:///run/redis.sock"
    with pytest.raises(ImproperlyConfigured, match="past Redis database 15"):
        xdist_redis_url("redis://127.0.0.1:6379/12", "gw4")


def _production_values(expression: str, tmp_path: Path, **files: str) -> subprocess.CompletedProcess[str]:
    """Print ``expression`` from production settings whose ``<NAME>_FILE`` variables name files holding ``files``."""
    env = {"SECRET_KEY": "k" * 50}
    for name, text in files.items():
        (tmp_path / name).write_text(text + "\n")
        env[f"{name}_FILE"] = str(tmp_path / name)
    return _python(f"import config.settings.production as s; print({expression})", **env)


def test_database_url_file_names_the_database(tmp_path):
    result = _production_values(
        "s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'], s.DATABASES['default']['PASSWORD']",
        tmp_path,
        DATABASE_URL="postgres://liveproof:s3cret@db.internal:5432/liveproof",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "liveproof", "s3cret"]


@pytest.mark.parametrize(
    ("name", "text"),
    [("SECURE_SSL_REDIRECT", "maybe"), ("ILIVE_CAPTCHA_ENABLED", "enabled"), ("SECURE_HSTS_PRELOAD", "treu")],
)
def test_a_boolean_from_a_file_is_as_strict_as_one_from_the_environment(tmp_path, name, text):
    from_file = _production_values(f"s.{name}", tmp_path, **{name: text})
    from_env = _import_settings("config.settings.production", SECRET_KEY="k" * 50, **{name: text})
    for result in (from_file, from_env):
        assert result.returncode != 0
        assert f"Setting {name} is malformed" in result.stderr


def test_a_boolean_from_a_file_reads_like_one_from_the_environment(tmp_path):
    result = _production_values(
        "s.SECURE_SSL_REDIRECT, s.DEMO_MODE", tmp_path, SECURE_SSL_REDIRECT="Off", DEMO_MODE="YES"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]


def test_a_lower_case_log_level_configures_logging():
    code = (
        "import django, logging, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings.production';"
        "django.setup(); print(logging.getLevelName(logging.getLogger().level))"
    )
    result = _python(code, drop=_SERVICES | {"DJANGO_SETTINGS_MODULE"}, SECRET_KEY="k" * 50, LOG_LEVEL="warning")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["WARNING"]


def test_prometheus_multiproc_dir_from_a_file_puts_every_process_in_multiprocess_mode(tmp_path):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (tmp_path / "dir").write_text(f"{metrics_dir}\n")
    code = "import django; django.setup(); from apps.core.metrics import FRAME_LATENCY; FRAME_LATENCY.observe(0.1)"
    result = _python(
        code,
        drop=_SERVICES | {"PROMETHEUS_MULTIPROC_DIR"},
        SECRET_KEY="k" * 50,
        DJANGO_SETTINGS_MODULE="config.settings.production",
        PROMETHEUS_MULTIPROC_DIR_FILE=str(tmp_path / "dir"),
    )
    assert result.returncode == 0, result.stderr
    # The process counted into the shared directory (multiprocess mode), not into its own memory only.
    assert [path.name.split("_")[0] for path in metrics_dir.iterdir()] == ["histogram"]


def test_a_comma_list_with_spaces_after_the_commas_means_the_same_items(tmp_path):
    """``ALLOWED_HOSTS=a.example, b.example`` used to allow " b.example" (never a Host): b.example got 400s."""
    (tmp_path / "origins").write_text("https://a.example , https://b.example,\n")
    code = "from django.conf import settings as s; print(s.ALLOWED_HOSTS, s.CSRF_TRUSTED_ORIGINS, s.ILIVE_CORS_ORIGINS)"
    result = _python(
        f"import django; django.setup(); {code}",
        drop=_SERVICES | {"ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS"},
        DJANGO_SETTINGS_MODULE="config.settings.base",
        ALLOWED_HOSTS="a.example, b.example ,,",
        CSRF_TRUSTED_ORIGINS_FILE=str(tmp_path / "origins"),
        ILIVE_CORS_ORIGINS=" https://app.example",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "['a.example', 'b.example'] ['https://a.example', 'https://b.example'] ['https://app.example']"
    )
