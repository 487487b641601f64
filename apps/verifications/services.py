"""Writes of verification configurations.

Every write validates through ``verification_input_parse`` (the API's own
serializers), whoever calls it: the API views, the admin, management code.
That is the one validation path.
"""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import Account
from apps.audit.models import AuditEventType
from apps.audit.services import audit_record
from apps.core.errors import ApplicationError
from apps.core.exceptions import flatten_errors, serializer_run

from .models import VerificationConfig
from .selectors import NOT_FOUND_MESSAGE, verification_get, verification_name_taken
from .serializers import NAME_MAX_LENGTH, VerificationConfigSerializer, VerificationWriteSerializer

INVALID_MESSAGE = "The request has invalid fields."
CONFLICT_MESSAGE = "A verification configuration with the same name already exists."


@dataclass(frozen=True)
class ParsedVerification:
    name: str
    config: dict[str, Any]  # normalised, defaults filled
    submitted_config: dict[str, Any]  # exactly as sent


def _plain(value: Any) -> Any:
    """Plain JSON types (serializers hand back OrderedDicts), as the JSONField will store them."""
    return json.loads(json.dumps(value))


def _invalid(detail: Any, *, prefix: str = "") -> ApplicationError:
    return ApplicationError(INVALID_MESSAGE, code="invalid", status=400, fields=flatten_errors(detail, prefix))


def verification_config_parse(*, data: Any, field_prefix: str = "verificationConfig") -> dict[str, Any]:
    """Validate a ``verificationConfig`` and return its normalised form.

    Raises ApplicationError(400) whose ``fields`` name each offending field by
    its dotted path under ``field_prefix``.
    """
    validated, errors = serializer_run(VerificationConfigSerializer, data)
    if errors:
        raise _invalid(errors, prefix=field_prefix)
    return _plain(validated)


def verification_input_parse(*, name: Any, verification_config: Any) -> ParsedVerification:
    """Validate a name and a ``verificationConfig`` together, reporting every bad field at once."""
    validated, errors = serializer_run(
        VerificationWriteSerializer, {"name": name, "verificationConfig": verification_config}
    )
    if errors:
        raise _invalid(errors)
    return ParsedVerification(
        name=validated["name"],
        config=_plain(validated["verificationConfig"]),
        submitted_config=copy.deepcopy(verification_config),
    )


def _conflict() -> ApplicationError:
    return ApplicationError(CONFLICT_MESSAGE, code="conflict", status=409, fields={"name": [CONFLICT_MESSAGE]})


def verification_create(*, account: Account, name: str, verification_config: dict[str, Any]) -> VerificationConfig:
    """Create a config; 409 when the account already has one with this name."""
    parsed = verification_input_parse(name=name, verification_config=verification_config)
    if verification_name_taken(account=account, name=parsed.name):
        raise _conflict()
    try:
        # A savepoint: two racing creates both pass the check above; the constraint decides.
        with transaction.atomic():
            created = VerificationConfig.objects.create(
                account=account,
                name=parsed.name,
                config=parsed.config,
                submitted_config=parsed.submitted_config,
            )
            _audit(created, AuditEventType.CONFIG_CREATED)
            return created
    except IntegrityError:
        raise _conflict() from None


def _audit(verification: VerificationConfig, event: AuditEventType) -> None:
    audit_record(
        account_id=verification.account_id,
        type=event,
        subject_type="verification",
        subject_id=verification.id,
        details={"name": verification.name},
    )


def _apply(verification: VerificationConfig, parsed: ParsedVerification) -> VerificationConfig:
    verification.name = parsed.name
    verification.config = parsed.config
    verification.submitted_config = parsed.submitted_config
    verification.last_modified = timezone.now()
    verification.save(update_fields=["name", "config", "submitted_config", "last_modified"])
    _audit(verification, AuditEventType.CONFIG_UPDATED)
    return verification


def verification_update(
    *, account: Account, verification_id: Any, name: str, verification_config: dict[str, Any]
) -> VerificationConfig:
    """Replace the name and the whole config; 404 for an unknown or foreign id, 409 for a taken name.

    Changing ``faceRecognition.collectionId`` only stores the new id: the old
    collection and its faces stay where they are.
    """
    parsed = verification_input_parse(name=name, verification_config=verification_config)
    found = verification_get(account=account, verification_id=verification_id)
    try:
        with transaction.atomic():
            # Locked, and read again: a delete that committed since is a 404, not a save of no row.
            verification = VerificationConfig.objects.select_for_update().filter(id=found.id).first()
            if verification is None:
                raise ApplicationError(NOT_FOUND_MESSAGE, code="not_found", status=404)
            if verification_name_taken(account=account, name=parsed.name, exclude_id=verification.id):
                raise _conflict()
            return _apply(verification, parsed)
    except IntegrityError:
        raise _conflict() from None


def verification_create_or_update(
    *, account: Account, name: str, verification_config: dict[str, Any]
) -> tuple[VerificationConfig, bool]:
    """Create the config, or replace the one with the same name; returns (config, was_created)."""
    parsed = verification_input_parse(name=name, verification_config=verification_config)
    for _ in range(2):  # a racing create of the same name makes the first insert fail; then it exists
        with transaction.atomic():
            existing = VerificationConfig.objects.select_for_update().filter(account=account, name=parsed.name).first()
            if existing is not None:
                return _apply(existing, parsed), False
            try:
                with transaction.atomic():
                    created = VerificationConfig.objects.create(
                        account=account,
                        name=parsed.name,
                        config=parsed.config,
                        submitted_config=parsed.submitted_config,
                    )
                    _audit(created, AuditEventType.CONFIG_CREATED)
                return created, True
            except IntegrityError:
                continue
    raise _conflict()


def verification_delete(*, account: Account, verification_id: uuid.UUID | str) -> None:
    """Delete a config; 404 for an unknown or foreign id. Sessions keep their frozen copy."""
    verification = verification_get(account=account, verification_id=verification_id)
    with transaction.atomic():
        _audit(verification, AuditEventType.CONFIG_DELETED)
        verification.delete()


def verification_duplicate(*, verification: VerificationConfig) -> VerificationConfig:
    """Copy a config under the first free name of "<name> (copy)", "<name> (copy 2)", ..."""
    base = f"{verification.name} (copy)"
    for number in range(1, 1000):
        suffix = " (copy)" if number == 1 else f" (copy {number})"
        name = verification.name[: NAME_MAX_LENGTH - len(suffix)] + suffix
        if verification_name_taken(account=verification.account, name=name):
            continue
        try:
            return verification_create(
                account=verification.account, name=name, verification_config=verification.submitted_config
            )
        except ApplicationError as exc:
            if exc.status != 409:
                raise
    raise ApplicationError(f"No free name for a copy of {base!r}.", code="conflict", status=409)


def verification_example_ensure(
    *, account: Account, verification_id: uuid.UUID, name: str, verification_config: dict[str, Any]
) -> VerificationConfig:
    """Give ``account`` a verification with this fixed id, name and config (created, or reset to them).

    The demo uses it so the API reference's examples, which name the Service API document's
    ``verificationId``, work as shown with the demo key. 409 when another verification holds the name.
    """
    parsed = verification_input_parse(name=name, verification_config=verification_config)
    if verification_name_taken(account=account, name=parsed.name, exclude_id=verification_id):
        raise _conflict()
    existing = VerificationConfig.objects.filter(id=verification_id).first()
    if existing is not None and existing.account_id != account.pk:
        raise ApplicationError("Another account holds this verificationId.", code="conflict", status=409)
    if existing is not None:
        return _apply(existing, parsed)
    return VerificationConfig.objects.create(
        id=verification_id,
        account=account,
        name=parsed.name,
        config=parsed.config,
        submitted_config=parsed.submitted_config,
    )
