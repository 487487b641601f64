"""python manage.py signing_secret_rotate "<account name>" [--revoke-previous]"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.models import Account
from apps.signing.services import signing_secret_rotate, signing_secret_value


class Command(BaseCommand):
    help = "Start a new signing secret for an account; the new secret is printed alone on the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("account")
        parser.add_argument(
            "--revoke-previous", action="store_true", help="Void every earlier secret now (after a leak)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        account = Account.objects.filter(name=options["account"]).first()
        if account is None:
            raise CommandError(f"No account named {options['account']!r}.")
        secret = signing_secret_rotate(account=account, revoke_previous=options["revoke_previous"])
        kept = "revoked" if options["revoke_previous"] else "valid for SIGNING_SECRET_OVERLAP_SECONDS"
        self.stdout.write(f"Account: {account.name} ({account.id}); previous secrets {kept}. New secret:")
        self.stdout.write(signing_secret_value(secret=secret))
