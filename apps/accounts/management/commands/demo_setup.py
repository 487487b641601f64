"""Create (or refresh) the demo account, its API key and an admin login, and print the URLs."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from apps.accounts.models import ApiKey
from apps.accounts.services import account_get_or_create, api_key_create, api_key_revoke

DEMO_ACCOUNT = "Demo integrator"


class Command(BaseCommand):
    help = "Idempotent demo setup: demo account + fresh API key + admin login; prints the URLs."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    def handle(self, *args: Any, **options: Any) -> None:
        base = options["base_url"].rstrip("/")
        account = account_get_or_create(name=DEMO_ACCOUNT)
        # Keys are shown once, so each run issues a fresh demo key and retires the old ones.
        for old in ApiKey.objects.filter(account=account, name="demo", revoked_at__isnull=True):
            api_key_revoke(api_key=old)
        issued = api_key_create(account=account, name="demo")
        password = secrets.token_urlsafe(12)
        user_model = get_user_model()
        admin, _ = user_model.objects.get_or_create(username="admin", defaults={"is_staff": True, "is_superuser": True})
        admin.is_staff = admin.is_superuser = True
        admin.set_password(password)
        admin.save()
        lines = [
            "",
            "Liveproof is starting on the embedded default (SQLite, in-memory channels, in-process tasks).",
            f"  API:          {base}/v1/",
            f"  Swagger:      {base}/swagger/",
            f"  Admin:        {base}/admin/   (login: admin / {password})",
            f"  Demo:         {base}/demo/",
            f"  Health:       {base}/v1/healthz",
            f"  Demo API key: {issued.plaintext}",
            "",
        ]
        self.stdout.write("\n".join(lines))
