"""Face collections, stored faces (embeddings only, never images) and selfie-versus-ID checks."""

from __future__ import annotations

import uuid

from django.db import models


def new_face_id() -> str:
    return uuid.uuid4().hex


class FaceCollection(models.Model):
    """A per-account set of faces, created on first use by ``collectionId``.

    ``engine``/``model_version``/``dimension`` are fixed by the first embedding
    stored: embeddings of different models are not comparable, so a collection
    refuses any other. ``version`` grows on every change to the collection's
    faces; each worker process compares it with its cached search matrix.
    """

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="face_collections")
    collection_id = models.CharField(max_length=128)
    description = models.CharField(max_length=500, blank=True)
    engine = models.CharField(max_length=32)
    model_version = models.CharField(max_length=200)
    dimension = models.PositiveIntegerField()
    version = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["collection_id"]
        constraints = [models.UniqueConstraint(fields=["account", "collection_id"], name="faces_collection_unique_id")]

    def __str__(self) -> str:
        return f"{self.collection_id} ({self.account_id})"


class Face(models.Model):
    """One person in a collection: an embedding (float32 bytes), a ``faceId`` and when it was seen."""

    collection = models.ForeignKey(FaceCollection, on_delete=models.CASCADE, related_name="faces")
    face_id = models.CharField(max_length=32, unique=True, default=new_face_id, editable=False)
    external_id = models.CharField(max_length=200, null=True, blank=True)
    embedding = models.BinaryField()
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["first_seen_at", "id"]
        indexes = [
            # The face list's order, and the session collection's purge of faces not seen since a cutoff.
            models.Index(fields=["collection", "first_seen_at", "id"], name="faces_face_coll_first_seen"),
            models.Index(fields=["collection", "last_seen_at"], name="faces_face_coll_last_seen"),
            models.Index(fields=["first_seen_at", "id"], name="faces_face_first_seen"),  # the admin's list order
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["collection", "external_id"],
                condition=models.Q(external_id__isnull=False),
                name="faces_face_unique_external_id",
            )
        ]

    def __str__(self) -> str:
        return self.face_id


class FaceSighting(models.Model):
    """A session in which a stored face was seen (the session row belongs to the sessions area)."""

    face = models.ForeignKey(Face, on_delete=models.CASCADE, related_name="sightings")
    session_id = models.UUIDField(db_index=True)
    seen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["seen_at", "id"]
        constraints = [models.UniqueConstraint(fields=["face", "session_id"], name="faces_sighting_unique")]


class FaceCollectionChange(models.Model):
    """One face added to or removed from a collection, under the collection version that change made.

    A process whose cached search matrix is a few versions behind reads these instead of every face
    (``search.SearchCache``); a version with no row here makes it read the collection again.
    Only the last ``search.CHANGES_KEPT`` versions of a collection are kept.
    """

    collection = models.ForeignKey(FaceCollection, on_delete=models.CASCADE, related_name="changes")
    version = models.BigIntegerField()
    face_pk = models.BigIntegerField()
    added = models.BooleanField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["collection", "version"], name="faces_change_unique_version")]


class SessionFace(models.Model):
    """The embedding of a verification session that passed liveness, for face compare against the session.

    Kept as long as session results are (SESSION_RESULT_RETENTION_DAYS), then purged.
    """

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="session_faces")
    session_id = models.UUIDField(unique=True)
    embedding = models.BinaryField()
    engine = models.CharField(max_length=32)
    model_version = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)


class PartnerProfile(models.Model):
    """Per-account settings of the hosted ``/verif/`` page (004): theming and the webhook URL."""

    account = models.OneToOneField("accounts.Account", on_delete=models.CASCADE, related_name="partner_profile")
    display_name = models.CharField(max_length=200, blank=True)
    accent_color = models.CharField(max_length=7, default="#2457d6")
    webhook_url = models.URLField(max_length=2000, blank=True)

    def __str__(self) -> str:
        return self.display_name or str(self.account)


class SelfieCheck(models.Model):
    """One selfie-video-versus-ID-photo check (004). Files are deleted after the retention period."""

    class Status(models.TextChoices):
        VERIFIED = "verified"
        REJECTED = "rejected"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="selfie_checks")
    user_identifier = models.CharField(max_length=200)
    user_email = models.CharField(max_length=254, blank=True)
    user_phone = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices)
    result = models.JSONField(default=dict)
    selfie_path = models.CharField(max_length=500, blank=True)
    selfie_name = models.CharField(max_length=200, blank=True)
    id_photo_path = models.CharField(max_length=500, blank=True)
    id_photo_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    files_purged_at = models.DateTimeField(null=True, blank=True)
    # Set when SESSION_RETENTION_DAYS removed the user's identifiers, file names and scores.
    personal_data_purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
