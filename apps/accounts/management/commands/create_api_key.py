"""python manage.py create_api_key "<account name>" [--name N] [--publishable]"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.accounts.models import ApiKey
from apps.accounts.services import account_get_or_create, api_key_create


class Command(BaseCommand):
    help = "Create the account if needed and a new API key; the key is printed alone on the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("account")
        parser.add_argument("--name", default="", help="A label for the key.")
        parser.add_argument(
            "--publishable", action="store_true", help="Create a publishable key (may only start checks)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        account = account_get_or_create(name=options["account"])
        kind = ApiKey.Kind.PUBLISHABLE if options["publishable"] else ApiKey.Kind.SECRET
        issued = api_key_create(account=account, name=options["name"], kind=kind)
        self.stdout.write(f"Account: {account.name} ({account.id})")
        self.stdout.write(f"{issued.api_key.get_kind_display()} key created; it is shown only once:")
        self.stdout.write(issued.plaintext)
