"""Celery tasks of the faces area: thin, idempotent, JSON arguments only."""

from __future__ import annotations

from celery import shared_task

from .retention import selfie_checks_personal_data_purge
from .selfie_id import verif_files_purge as purge
from .services import session_faces_purge
from .session_faces import session_collection_faces_purge


@shared_task(name="apps.faces.tasks.verif_files_purge")
def verif_files_purge() -> int:
    """Delete selfie-check files past VERIF_FILE_RETENTION_DAYS (004: 7 days), old session faces, faces of
    the reserved session collections not seen within SESSION_RESULT_RETENTION_DAYS, and the personal
    fields of checks past SESSION_RETENTION_DAYS."""
    return purge() + session_faces_purge() + session_collection_faces_purge() + selfie_checks_personal_data_purge()
