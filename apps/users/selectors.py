"""Reads of Entry users, scoped to an account."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet

from apps.accounts.models import Account
from apps.core.errors import ApplicationError
from apps.core.timestamps import utc_timestamp

from .models import EntryUser


def user_get(*, account: Account, entry_user_id: uuid.UUID | str) -> EntryUser:
    """The account's user, or 404 (another account's user is as unknown as a missing one)."""
    try:
        key = uuid.UUID(str(entry_user_id))
    except ValueError:
        raise ApplicationError("User not found.", code="not_found", status=404) from None
    user = EntryUser.objects.filter(account=account, id=key).first()
    if user is None:
        raise ApplicationError("User not found.", code="not_found", status=404)
    return user


def user_get_by_external_id(*, account: Account, external_id: str) -> EntryUser:
    user = EntryUser.objects.filter(account=account, external_id=external_id).first()
    if user is None:
        raise ApplicationError("User not found.", code="not_found", status=404)
    return user


def user_list(*, account: Account) -> QuerySet[EntryUser]:
    return EntryUser.objects.filter(account=account).order_by("created_at", "id")


def user_payload(*, user: EntryUser) -> dict[str, Any]:
    """A user as the Entry document names its fields (``entryUserId``, ``isRegistrationComplete``, ``deviceId``)."""
    return {
        "entryUserId": str(user.id),
        "externalId": user.external_id,
        "isRegistrationComplete": user.is_registration_complete,
        "deviceId": user.device_id or None,
        "dateOfBirth": user.date_of_birth.isoformat() if user.date_of_birth else None,
        "hasPhotoIdentityDocumentNumber": bool(user.document_number_hash),
        "enrolledSessionId": str(user.enrolled_session_id) if user.enrolled_session_id else None,
        "createdAt": utc_timestamp(user.created_at),
        "updatedAt": utc_timestamp(user.updated_at),
    }


def user_date_of_birth(*, account: Account, entry_user_id: uuid.UUID) -> Any:
    return EntryUser.objects.filter(account=account, id=entry_user_id).values_list("date_of_birth", flat=True).first()
