"""Selfie-versus-ID checks after the fact: the retention purge of their files, and links to files it deleted."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone

from apps.faces.file_links import check_file_link
from apps.faces.models import SelfieCheck
from apps.faces.selfie_id import verif_files_purge

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


def stored_check(account, faces) -> SelfieCheck:
    """A finished check with both files on disk, as selfie_check_submit leaves it."""
    selfie = default_storage.save("verif/x/selfie.mp4", ContentFile(b"video"))
    photo = default_storage.save("verif/x/id.jpg", ContentFile(faces.astronaut))
    return SelfieCheck.objects.create(
        account=account,
        user_identifier="u",
        status="verified",
        result={"status": "verified"},
        selfie_path=selfie,
        selfie_name="selfie.mp4",
        id_photo_path=photo,
        id_photo_name="id.jpg",
    )


def test_files_are_deleted_after_the_retention_period(integrator, faces, settings):
    check = stored_check(integrator.account, faces)
    stored = Path(settings.MEDIA_ROOT) / check.selfie_path
    assert stored.exists()
    assert verif_files_purge() == 0  # still within 7 days
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        assert verif_files_purge() == 1
        assert verif_files_purge() == 0  # idempotent
    assert not stored.exists()
    gone = integrator.client.get("/v1/verif/check/file", {"checkId": str(check.id), "file": "selfieVideo"})
    assert gone.status_code == 410
    body = integrator.client.get("/v1/verif/check/get", {"checkId": str(check.id)}).json()
    assert body["result"]["files"]["selfieVideo"]["url"] is None


def test_the_purge_runs_from_celery_beat(settings):
    from apps.faces.tasks import verif_files_purge as task

    entry = settings.CELERY_BEAT_SCHEDULE["faces-verif-files-purge"]

    assert task.name == entry["task"]
    assert task.apply().get() == 0


def test_a_file_that_could_not_be_deleted_is_tried_again_by_the_next_purge(integrator, faces, monkeypatch):
    check = stored_check(integrator.account, faces)

    def refuse(storage, path):
        raise PermissionError(13, "Permission denied", path)

    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        monkeypatch.setattr(type(default_storage._wrapped), "delete", refuse)  # a read-only mount, say
        assert verif_files_purge() == 0
        check.refresh_from_db()
        assert check.files_purged_at is None and check.selfie_path  # still known, so still purgeable
        monkeypatch.undo()
        assert verif_files_purge() == 1


def test_a_purge_leaves_no_empty_folder_behind(integrator, faces, settings):
    """Each check's files sit in verif/<checkId>/; the purge deleted them and left the folder, one per check."""
    check = stored_check(integrator.account, faces)
    folder = (Path(settings.MEDIA_ROOT) / check.selfie_path).parent
    assert folder.is_dir()
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        assert verif_files_purge() == 1
    assert not folder.exists()
    assert (Path(settings.MEDIA_ROOT) / "verif").is_dir()  # only the check's own folder goes


@pytest.mark.django_db(transaction=True)
def test_a_check_deleted_before_its_purge_takes_its_files_along(integrator, faces, settings):
    """An operator's delete, or the account's: nothing would find the files afterwards."""
    check = stored_check(integrator.account, faces)
    stored = [Path(settings.MEDIA_ROOT) / p for p in (check.selfie_path, check.id_photo_path)]
    assert all(p.exists() for p in stored)
    integrator.account.delete()
    assert not any(p.exists() for p in stored)


def test_a_file_link_of_a_check_the_purge_only_half_deleted_is_gone_not_an_error(integrator, faces, monkeypatch):
    """One file deleted, the other kept for the next run (a read-only mount): the row is not purged yet."""
    check = stored_check(integrator.account, faces)
    delete = type(default_storage._wrapped).delete

    def refuse_the_photo(storage, path):
        if path == check.id_photo_path:
            raise PermissionError(13, "Permission denied", path)
        delete(storage, path)

    monkeypatch.setattr(type(default_storage._wrapped), "delete", refuse_the_photo)
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        assert verif_files_purge() == 0
        link = check_file_link(check=check, kind="selfieVideo").split("127.0.0.1:8000", 1)[-1]
        opened = Client().get(link)
        downloaded = integrator.client.get("/v1/verif/check/file", {"checkId": str(check.id), "file": "selfieVideo"})
    for response in (opened, downloaded):
        assert response.status_code == 410 and response.json()["error"]["code"] == "gone"
    photo = integrator.client.get("/v1/verif/check/file", {"checkId": str(check.id), "file": "idPhoto"})
    assert photo.status_code == 200  # still there until the next run deletes it
