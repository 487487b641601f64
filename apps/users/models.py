"""Entry users (003): an integrator's end user, known by a face, with an optional profile.

No image and no identity document number is stored: the face is an embedding in the
account's users collection (``apps.faces.enrolment``), the document number a keyed HMAC.
"""

from __future__ import annotations

import uuid

from django.db import models


class EntryUser(models.Model):
    """One user of an integrator: ``entryUserId`` is ``id``; ``externalId`` is the integrator's own id."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="entry_users")
    external_id = models.CharField(max_length=200)
    date_of_birth = models.DateField(null=True, blank=True)
    # HMAC-SHA256 (key derived from SECRET_KEY, salted with the account) of the normalised number.
    document_number_hash = models.CharField(max_length=64, blank=True)
    face = models.OneToOneField(
        "faces.Face", null=True, blank=True, on_delete=models.SET_NULL, related_name="entry_user"
    )
    enrolled_session_id = models.UUIDField(null=True, blank=True)
    enrolled_at = models.DateTimeField(null=True, blank=True)
    # The hashed device id the user last completed a session on (see docs/entry.md, Devices).
    device_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        # The user list's order (GET /v1/user/get-all pages an account's users by it).
        indexes = [
            models.Index(fields=["account", "created_at", "id"], name="users_user_account_created"),
            models.Index(fields=["created_at", "id"], name="users_user_created"),  # the admin's list order
        ]
        constraints = [models.UniqueConstraint(fields=["account", "external_id"], name="users_unique_external_id")]

    def __str__(self) -> str:
        return f"{self.external_id} ({self.id})"

    @property
    def is_registration_complete(self) -> bool:
        return self.face_id is not None


class Enrolment(models.Model):
    """A session a user's face was enrolled from: deleting the user clears each, not only the latest."""

    user = models.ForeignKey(EntryUser, on_delete=models.CASCADE, related_name="enrolments")
    session_id = models.UUIDField()
    enrolled_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "session_id"], name="users_unique_enrolment")]

    def __str__(self) -> str:
        return f"{self.user_id} from {self.session_id}"
