"""Reads of verification configurations, always scoped to one account."""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from apps.accounts.models import Account
from apps.core.errors import ApplicationError

from .models import VerificationConfig

NOT_FOUND_MESSAGE = "Verification configuration not found."


def verification_get(*, account: Account, verification_id: uuid.UUID | str) -> VerificationConfig:
    """The account's config with this id.

    Another account's id raises exactly the same 404 as an unknown id, so ids
    cannot be probed across accounts.
    """
    try:
        return VerificationConfig.objects.get(account=account, id=verification_id)
    except (VerificationConfig.DoesNotExist, ValidationError, ValueError):  # the last two: not a UUID
        raise ApplicationError(NOT_FOUND_MESSAGE, code="not_found", status=404) from None


def verification_list(*, account: Account) -> QuerySet[VerificationConfig]:
    return VerificationConfig.objects.filter(account=account).order_by("created", "id")


def verification_name_taken(*, account: Account, name: str, exclude_id: uuid.UUID | None = None) -> bool:
    """Whether another config of the account already has this name (names are unique per account)."""
    taken = VerificationConfig.objects.filter(account=account, name=name)
    if exclude_id is not None:
        taken = taken.exclude(id=exclude_id)
    return taken.exists()
