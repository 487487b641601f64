"""Selfie video versus ID photo checks (004): passive liveness on the video, then a face comparison.

The check runs inside the request, as 004's response carries the result.
Both files are kept for the retention period (004: 7 days) so the partner
can fetch them, then deleted by the ``verif_files_purge`` beat task.
"""

from __future__ import annotations

import logging
import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Account
from apps.core.engine import get_engine
from apps.core.errors import ApplicationError
from apps.core.timestamps import utc_timestamp_ms
from apps.face_engine.types import CapturePlan, Comparison, FaceEngine, FrameError, Verdict
from apps.verifications.enums import VerifierResult
from apps.webhooks.event_types import EventType
from apps.webhooks.services import webhook_event_record
from apps.webhooks.ssrf import check_url_on_save

from .comparison import face_from_upload, image_check_size
from .file_links import check_file_link
from .file_types import FileType, image_file_type, video_file_type
from .id_photo import id_photo_for_engine, id_photo_format
from .media import VideoError, video_container, video_frames
from .models import PartnerProfile, SelfieCheck
from .services import ENGINE_LOCK

logger = logging.getLogger(__name__)

METHOD = "face_embedding"


@dataclass(frozen=True)
class SubmitInput:
    user_identifier: str
    user_email: str
    user_phone: str
    selfie_video: UploadedFile
    id_photo: UploadedFile


def _video_error(code: str, message: str) -> ApplicationError:
    return ApplicationError(message, code=code, status=400, fields={"selfie_video": [message]})


def _liveness(*, engine: FaceEngine, data: SubmitInput) -> tuple[Verdict, str]:
    """Passive liveness over the sampled frames of the selfie video, and the container it was decoded as."""
    state = engine.new_capture(CapturePlan(mode="passive", want_age_gender=False, want_icao=False))
    analysed = 0
    try:
        container = video_container(source=data.selfie_video)
        for jpeg, timestamp in video_frames(
            source=data.selfie_video,
            max_seconds=float(settings.VERIF_MAX_VIDEO_SECONDS),
            sample_fps=float(settings.VERIF_SAMPLE_FPS),
        ):
            try:
                result = engine.analyze_frame(state, jpeg, timestamp)
            except FrameError:
                continue
            state, analysed = result.state, analysed + 1
            if result.capture_complete:
                break
    except VideoError as exc:
        raise _video_error("badVideo", str(exc)) from None
    if not analysed:
        raise _video_error("badVideo", "selfie_video has no usable frames.")
    return engine.decide(state), container


def _risk_factors(*, live: bool, identical: bool, reasons: list[str], level: str) -> list[str]:
    """Why a check is rejected or doubtful (004's ``verificationAssessment.riskFactors``), most serious first."""
    factors = [] if live else ["livenessFailed", *reasons]
    if not identical:
        factors.append("faceMismatch")
    if level == "low":
        factors.append("lowConfidence")
    return factors


def _assessment(
    *, live: bool, identical: bool, liveness_confidence: float, similarity: float, reasons: list[str]
) -> dict[str, Any]:
    verified = live and identical
    # 50 is the line between verified and rejected; the distance from it is the confidence.
    mean = round(100 * (liveness_confidence + similarity) / 2)
    score = max(50, mean) if verified else min(49, mean)
    distance = abs(score - 50)
    level = "high" if distance >= 30 else "medium" if distance >= 15 else "low"
    if verified:
        summary = "Verification completed successfully"
    elif not live:
        summary = "The selfie video did not pass the liveness check"
    else:
        summary = "The selfie and the ID photo do not show the same person"
    return {
        "overallScore": score,
        "verificationStatus": SelfieCheck.Status.VERIFIED if verified else SelfieCheck.Status.REJECTED,
        "confidenceLevel": level,
        "summary": summary,
        "riskFactors": _risk_factors(live=live, identical=identical, reasons=reasons, level=level),
    }


def _file_name(check_id: uuid.UUID, kind: str, file_type: FileType, moment: datetime) -> str:
    """Named by what the content was checked to be: the client's file name never sets the type it is served as."""
    return f"{check_id}_{kind}_{moment.strftime('%Y%m%dT%H%M%SZ')}{file_type.extension}"


def _store(check_id: uuid.UUID, name: str, upload: UploadedFile) -> str:
    upload.seek(0)
    return default_storage.save(f"verif/{check_id}/{name}", ContentFile(upload.read()))


def check_file_url(*, check: SelfieCheck, kind: str) -> str:
    """A link a browser can open without a key: signed for this one file, expiring (see ``file_links``)."""
    return check_file_link(check=check, kind=kind)


def selfie_check_result(*, check: SelfieCheck) -> dict[str, Any]:
    """The ``result`` object of 004's response, with the file URLs (null once the files are purged)."""
    result = dict(check.result)
    purged = check.files_purged_at is not None
    result["files"] = {
        "selfieVideo": {
            "url": None if purged else check_file_url(check=check, kind="selfieVideo"),
            "fileName": check.selfie_name,
        },
        "idPhoto": {
            "url": None if purged else check_file_url(check=check, kind="idPhoto"),
            "fileName": check.id_photo_name,
        },
    }
    return result


def _webhook_payload(check: SelfieCheck, result: dict[str, Any]) -> dict[str, Any]:
    return {
        "check_id": str(check.id),
        "user_identifier": check.user_identifier,
        "verification_result": {
            "sessionId": str(check.id),
            "timestamp": result["timestamp"],
            "status": result["status"],
            "faceComparison": {
                k: result["faceComparison"][k] for k in ("isIdentical", "confidence", "similarityScore")
            },
            "verificationAssessment": {
                k: result["verificationAssessment"][k]
                for k in ("overallScore", "verificationStatus", "confidenceLevel", "riskFactors")
            },
        },
        "selfie_video_url": result["files"]["selfieVideo"]["url"],
        "id_photo_url": result["files"]["idPhoto"]["url"],
        "completed_at": result["timestamp"],
    }


@dataclass(frozen=True)
class Analysis:
    verdict: Verdict
    comparison: Comparison
    selfie_type: FileType  # from the container FFmpeg decoded
    id_photo_type: FileType  # from the format the photo was read as


def selfie_check_analyse(*, data: SubmitInput) -> Analysis:
    """Passive liveness on the video and the comparison with the ID photo. CPU only: no database access.

    The web view runs this off the server's shared request thread, so a check
    of a few seconds never stalls other requests.
    """
    if (data.selfie_video.size or 0) > int(settings.VERIF_MAX_VIDEO_BYTES):
        raise ApplicationError(
            f"selfie_video exceeds {settings.VERIF_MAX_VIDEO_BYTES} bytes.",
            code="too_large",
            status=413,
            fields={"selfie_video": ["At most 50 MB."]},
        )
    if (data.id_photo.size or 0) > int(settings.FACES_MAX_IMAGE_BYTES):
        raise ApplicationError(
            f"id_photo exceeds {settings.FACES_MAX_IMAGE_BYTES} bytes.",
            code="too_large",
            status=413,
            fields={"id_photo": [f"At most {settings.FACES_MAX_IMAGE_BYTES} bytes."]},
        )
    engine = get_engine()
    data.id_photo.seek(0)
    original = image_check_size(data=data.id_photo.read(), field="id_photo")
    id_face = face_from_upload(engine=engine, data=id_photo_for_engine(data=original), field="id_photo")
    with ENGINE_LOCK:
        verdict, container = _liveness(engine=engine, data=data)
    if verdict.embedding is None:
        code = "multipleFaces" if "multipleFaces" in verdict.reasons else "noFace"
        detail = "more than one face" if code == "multipleFaces" else "no usable face"
        raise _video_error(code, f"selfie_video shows {detail}.")
    comparison = engine.compare(tuple(verdict.embedding), tuple(float(x) for x in id_face))
    return Analysis(
        verdict=verdict,
        comparison=comparison,
        selfie_type=video_file_type(container),
        id_photo_type=image_file_type(id_photo_format(data=original)),
    )


def selfie_check_submit(*, account: Account, data: SubmitInput) -> SelfieCheck:
    """Run one check and record it (see selfie_check_analyse and selfie_check_record)."""
    return selfie_check_record(account=account, data=data, analysis=selfie_check_analyse(data=data))


def selfie_check_record(*, account: Account, data: SubmitInput, analysis: Analysis) -> SelfieCheck:
    """Store the files and the result, and record the webhook in the same transaction."""
    verdict, comparison = analysis.verdict, analysis.comparison
    live = verdict.verdict == "pass"
    now = timezone.now()
    check_id = uuid.uuid4()
    similarity = round(float(comparison.similarity), 4)
    result: dict[str, Any] = {
        "sessionId": str(check_id),
        "timestamp": utc_timestamp_ms(now),
        "faceComparison": {
            "isIdentical": bool(comparison.is_identical),
            "confidence": similarity,
            "similarityScore": round(similarity * 100),
            "method": f"{METHOD}:{comparison.engine}",
            "threshold": comparison.threshold,
        },
        "liveness": {
            "result": (VerifierResult.PASS if live else VerifierResult.FAIL).value,
            "confidence": round(float(verdict.confidence), 4),
            "reasons": list(verdict.reasons),
        },
        "verificationAssessment": _assessment(
            live=live,
            identical=comparison.is_identical,
            liveness_confidence=float(verdict.confidence),
            similarity=similarity,
            reasons=list(verdict.reasons),
        ),
    }
    result["status"] = result["verificationAssessment"]["verificationStatus"]
    selfie_name = _file_name(check_id, "selfie", analysis.selfie_type, now)
    id_name = _file_name(check_id, "id", analysis.id_photo_type, now)
    selfie_path = _store(check_id, selfie_name, data.selfie_video)
    id_path = _store(check_id, id_name, data.id_photo)
    try:
        with transaction.atomic():
            check = SelfieCheck.objects.create(
                id=check_id,
                account=account,
                user_identifier=data.user_identifier,
                user_email=data.user_email,
                user_phone=data.user_phone,
                status=result["status"],
                result=result,
                selfie_path=selfie_path,
                selfie_name=selfie_name,
                id_photo_path=id_path,
                id_photo_name=id_name,
            )
            _record_webhook(account=account, check=check)
    except Exception:
        _delete_files(selfie_path, id_path)
        raise
    return check


def _record_webhook(*, account: Account, check: SelfieCheck) -> None:
    profile = PartnerProfile.objects.filter(account=account).first()
    url = profile.webhook_url if profile and profile.webhook_url else None
    payload = _webhook_payload(check, selfie_check_result(check=check))
    webhook_event_record(account=account, event_type=EventType.SELFIE_CHECK_COMPLETED, payload=payload, url=url)


def _delete_files(*paths: str) -> bool:
    """Delete each stored file; False when one could not be deleted (a missing file counts as deleted)."""
    deleted = True
    for path in paths:
        if path:
            try:
                default_storage.delete(path)  # Django's storage already ignores a file that is gone
            except OSError:
                logger.error("Could not delete %s; it is kept for the next purge", path, exc_info=True)
                deleted = False
    if deleted:
        _folders_remove(paths)
    return deleted


def _folders_remove(paths: tuple[str, ...]) -> None:
    """The check's own folder (``verif/<checkId>/``) once empty: a purge left one empty folder per check."""
    for folder in {os.path.dirname(path) for path in paths if path}:
        try:
            os.rmdir(default_storage.path(folder))
        except (NotImplementedError, OSError):
            pass  # a storage without local paths, a folder not empty or already gone: nothing to tidy


def selfie_check_deleted(sender: object, instance: SelfieCheck, **kwargs: object) -> None:
    """post_delete: a check deleted before its purge (the admin, an account's deletion) takes its files along,
    once the deletion has committed (a rolled-back delete keeps them)."""
    paths = (instance.selfie_path, instance.id_photo_path)
    if any(paths):
        transaction.on_commit(lambda: _delete_files(*paths))


def verif_files_purge(*, now: datetime | None = None) -> int:
    """Delete the files of checks older than the retention period; returns how many checks were purged."""
    cutoff = (now or timezone.now()) - timedelta(days=int(settings.VERIF_FILE_RETENTION_DAYS))
    purged = 0
    for check in SelfieCheck.objects.filter(created_at__lt=cutoff, files_purged_at__isnull=True).iterator():
        if not _delete_files(check.selfie_path, check.id_photo_path):
            continue  # the row keeps its paths: the next hourly run tries again
        # Conditional update: a second purge run racing this one does nothing.
        purged += SelfieCheck.objects.filter(pk=check.pk, files_purged_at__isnull=True).update(
            files_purged_at=timezone.now(), selfie_path="", id_photo_path=""
        )
    return purged


def partner_profile_get(*, account: Account) -> PartnerProfile:
    """The account's /verif/ settings (defaults until saved)."""
    return PartnerProfile.objects.filter(account=account).first() or PartnerProfile(account=account)


def partner_profile_update(*, account: Account, changes: dict[str, str]) -> PartnerProfile:
    """Save the given fields (display_name, accent_color, webhook_url); a refused webhook URL is a 400."""
    url = changes.get("webhook_url")
    if url:
        try:
            check_url_on_save(url)
        except ValueError as exc:
            raise ApplicationError(str(exc), fields={"webhookUrl": [str(exc)]}) from None
    profile, _ = PartnerProfile.objects.update_or_create(account=account, defaults=changes)
    return profile
