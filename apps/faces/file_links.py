"""Signed links to a check's files that a partner's browser can open without a key (004).

``/verif/files/<check_id>/<selfieVideo|idPhoto>?reExpiration=<unix s>&reSignature=<hex>``: the
signature is the signing area's HMAC (apps/signing) over ``checkId``, ``file`` and ``reExpiration``
under the account's signing secret, with a key for this purpose only, so a link opens exactly one
file of one check, until it expires (``VERIF_FILE_LINK_TTL_SECONDS``), and no signed redirect or
hosted link can pass as one (nor the other way round). Rotating the signing secret revokes the links
once the previous secret is gone.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.utils import timezone

from apps.core.errors import ApplicationError
from apps.signing.canonical import EXPIRATION_PARAM, SIGNATURE_PARAM
from apps.signing.services import Outcome, query_check, query_sign

from .models import SelfieCheck

PURPOSE_FILE = "verif-file"
FILE_KINDS = ("selfieVideo", "idPhoto")


def _gone() -> ApplicationError:
    return ApplicationError("The files were deleted after the retention period.", code="gone", status=410)


def _params(check_id: uuid.UUID | str, kind: str, expiration: str) -> list[tuple[str, str]]:
    return [("checkId", str(check_id)), ("file", kind), (EXPIRATION_PARAM, expiration)]


def check_file_link(*, check: SelfieCheck, kind: str) -> str:
    """A fresh signed link to one file of ``check``."""
    expiration = str(int(timezone.now().timestamp()) + int(settings.VERIF_FILE_LINK_TTL_SECONDS))
    params = _params(check.id, kind, expiration)
    signature = query_sign(account=check.account, params=params, purpose=PURPOSE_FILE)
    query = urlencode({EXPIRATION_PARAM: expiration, SIGNATURE_PARAM: signature})
    return f"{settings.PUBLIC_BASE_URL}/verif/files/{check.id}/{kind}?{query}"


def check_file_link_open(*, check_id: uuid.UUID, kind: str, expiration: str, signature: str) -> SelfieCheck:
    """The check whose file the link opens; 403 for a wrong or expired link, 404 unknown, 410 purged."""
    check = SelfieCheck.objects.select_related("account").filter(id=check_id).first()
    if check is None or kind not in FILE_KINDS:
        raise ApplicationError("No such file.", code="not_found", status=404)
    params = [*_params(check_id, kind, expiration), (SIGNATURE_PARAM, signature)]
    outcome = query_check(account=check.account, params=params, purposes=(PURPOSE_FILE,))
    if outcome == Outcome.EXPIRED:
        raise ApplicationError(
            "This file link has expired; read the check again for a fresh one.", code="expired", status=403
        )
    if outcome != Outcome.VALID:
        raise ApplicationError("This file link is not valid.", code="invalid_signature", status=403)
    if check.files_purged_at is not None:
        raise _gone()
    return check


def check_file_open(*, check: SelfieCheck, kind: str) -> tuple[File, str]:
    """One stored file of ``check`` and its name; 410 gone once purged.

    Gone too while the file is missing from storage: the purge deletes the files before it marks the row,
    and a purge that could delete only one of them keeps the row unpurged for its next run.
    """
    video = kind == "selfieVideo"
    path, name = (check.selfie_path, check.selfie_name) if video else (check.id_photo_path, check.id_photo_name)
    if check.files_purged_at is not None or not path:
        raise _gone()
    try:
        return default_storage.open(path, "rb"), name
    except FileNotFoundError:
        raise _gone() from None
