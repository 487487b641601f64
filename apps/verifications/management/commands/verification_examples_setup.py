"""Give the demo account the stored verification the API reference's examples name, so each works as shown."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.services import account_get_or_create
from apps.core.errors import ApplicationError
from apps.verifications.schema import DEMO_NAME, SEED_CONFIG, SEED_ID
from apps.verifications.services import verification_example_ensure


class Command(BaseCommand):
    help = "Idempotent: the demo account's 'Demo verification' (the Swagger examples' verificationId), reset."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", default="Demo integrator", help="The account's name (made when missing).")

    def handle(self, *args: Any, **options: Any) -> None:
        account = account_get_or_create(name=options["account"])
        try:
            verification = verification_example_ensure(
                account=account, verification_id=uuid.UUID(SEED_ID), name=DEMO_NAME, verification_config=SEED_CONFIG
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"  Swagger examples: verification {verification.id} ({verification.name!r}) is ready.")
