"""Settings owned by the accounts area. Read from the environment once; see config/env.py."""

from __future__ import annotations

from datetime import timedelta

BEAT_SCHEDULE: dict[str, dict] = {
    "accounts-admin-login-logs-purge": {
        "task": "apps.accounts.tasks.admin_login_logs_purge",
        "schedule": timedelta(days=1),
        "options": {"queue": "default"},
    },
}
