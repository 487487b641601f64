"""Images in, faces out: decoding uploads, compare (1:1) and identify (1:N).

Every image must show exactly one face; otherwise a 400 names the image
(``noFace``, ``multipleFaces``, ``badImage``).
"""

from __future__ import annotations

import base64
import binascii
import io
import uuid
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from django.conf import settings
from PIL import Image

from apps.accounts.models import Account
from apps.core.engine import get_engine
from apps.core.errors import ApplicationError
from apps.face_engine.types import Comparison, FaceEngine, FaceImageError, FrameError

from .id_photo import picture_upright
from .models import SessionFace
from .search import embedding_from_bytes
from .selectors import collection_get, session_faces_kept
from .services import ENGINE_LOCK, Match, collection_accepts, embedding_model_version, face_best_match


def image_decode_base64(*, value: str, field: str) -> bytes:
    """Bytes of a base64 image (a ``data:`` URL prefix is allowed), or 400 badImage naming ``field``."""
    if "," in value[:100] and value.startswith("data:"):
        value = value.split(",", 1)[1]
    try:
        data = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise _image_error(field, "badImage", "is not valid base64") from None
    return image_check_size(data=data, field=field)


def image_check_size(*, data: bytes, field: str) -> bytes:
    if not data:
        raise _image_error(field, "badImage", "is empty")
    if len(data) > int(settings.FACES_MAX_IMAGE_BYTES):
        raise ApplicationError(
            f"{field} exceeds {settings.FACES_MAX_IMAGE_BYTES} bytes.",
            code="too_large",
            status=413,
            fields={field: [f"At most {settings.FACES_MAX_IMAGE_BYTES} bytes."]},
        )
    return data


_IMAGE_MESSAGES = {
    "noFace": "contains no face",
    "multipleFaces": "contains more than one face",
    "badImage": "is not a usable image",
}


def _image_error(field: str, code: str, detail: str | None = None) -> ApplicationError:
    message = f"{field} {detail or _IMAGE_MESSAGES.get(code, 'is not a usable image')}."
    return ApplicationError(message, code=code, status=400, fields={field: [message]})


# Phone photos are often larger than the engine accepts for one frame (in bytes, or in pixels: a plain
# background compresses a 5000 px photo to a few hundred KB); they are scaled down first.
_ENGINE_IMAGE_BYTES = 1_400_000
_ENGINE_IMAGE_SIDE = 4096
_FIT_SIDE = 1600


def _largest_side(data: bytes) -> int:
    """The larger declared dimension, read from the header only; 0 when unreadable (the engine then says why)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return max(image.size)
    except Exception:  # Pillow raises anything from OSError to struct.error or a DecompressionBombError
        return 0


def _engine_takes(*, data: bytes, engine: FaceEngine) -> bool:
    engine_settings = getattr(engine, "settings", None)
    limit = min(_ENGINE_IMAGE_BYTES, int(getattr(engine_settings, "max_frame_bytes", _ENGINE_IMAGE_BYTES)))
    side = int(getattr(engine_settings, "max_side_pixels", _ENGINE_IMAGE_SIDE))
    return len(data) <= limit and _largest_side(data) <= side


def image_fit_for_engine(*, data: bytes, engine: FaceEngine, field: str) -> bytes:
    """``data`` itself when the engine takes it, else a JPEG of at most 1600 px a side (EXIF orientation applied)."""
    if _engine_takes(data=data, engine=engine):
        return data
    out = io.BytesIO()  # the size is checked from the header first: no pixel bomb is decoded
    picture_upright(data=data, field=field, fit=_FIT_SIDE).save(out, format="JPEG", quality=90)
    return out.getvalue()


def face_from_upload(*, engine: FaceEngine, data: bytes, field: str) -> np.ndarray:
    """The one face's embedding in an uploaded image, or 400 noFace/multipleFaces/badImage naming ``field``."""
    data = image_fit_for_engine(data=data, engine=engine, field=field)
    try:
        with ENGINE_LOCK:
            face = engine.face_from_image(data)
    except FaceImageError as exc:
        raise _image_error(field, exc.code if exc.code in _IMAGE_MESSAGES else "badImage") from None
    except FrameError:
        raise _image_error(field, "badImage") from None
    return np.asarray(face.embedding, dtype=np.float32)


def _session_embedding(*, account: Account, session_id: str) -> SessionFace:
    """The stored face of one of the account's sessions that passed liveness, within the results' retention."""
    try:
        key = uuid.UUID(str(session_id))
    except ValueError:
        raise ApplicationError("Session not found.", code="not_found", status=404) from None
    stored = session_faces_kept().filter(session_id=key, account=account).first()
    if stored is not None:
        return stored
    if not _account_session_exists(account=account, session_id=key):
        raise ApplicationError("Session not found.", code="not_found", status=404)
    raise ApplicationError(
        "This session has no stored face to compare against: it has not passed liveness (yet).",
        code="no_face_data",
        status=409,
        fields={"verificationSessionId": ["The session has no face embedding."]},
    )


class SessionExists(Protocol):
    def __call__(self, *, account: Account, session_id: uuid.UUID) -> bool: ...


# Sessions sit above faces (a passed session stores its face here), so faces cannot import them:
# the sessions app hands its lookup in when it is ready. Without it no session is known.
_session_exists: SessionExists | None = None


def session_lookup_register(lookup: SessionExists) -> None:
    """Let compare tell an unknown session (404) from one without a stored face (409)."""
    global _session_exists  # set once, when the sessions app is ready
    _session_exists = lookup


def _account_session_exists(*, account: Account, session_id: uuid.UUID) -> bool:
    return _session_exists is not None and _session_exists(account=account, session_id=session_id)


def face_compare(
    *,
    account: Account,
    image1: bytes,
    image2: bytes | None = None,
    verification_session_id: str | None = None,
    image1_field: str | None = None,
) -> Comparison:
    """Compare two images, or one image with the face of one of the account's sessions.

    ``image1_field`` is the request field the first image came in, which an error names.
    """
    engine = get_engine()
    field = image1_field or ("image1" if image2 is not None else "image")
    first = face_from_upload(engine=engine, data=image1, field=field)
    if image2 is not None:
        second = face_from_upload(engine=engine, data=image2, field="image2")
    else:
        stored = _session_embedding(account=account, session_id=str(verification_session_id))
        second = embedding_from_bytes(stored.embedding)
        if stored.engine != engine.name or second.shape != first.shape:
            raise ApplicationError(
                "The session's face was computed by another face engine.", code="engine_mismatch", status=409
            )
    return engine.compare(tuple(float(x) for x in first), tuple(float(x) for x in second))


@dataclass(frozen=True)
class Identification:
    match: Match | None
    threshold: float


def face_identify(*, account: Account, collection_id: str, image: bytes) -> Identification:
    """1:N: the collection's face identical to the one in ``image``, if any."""
    collection = collection_get(account=account, collection_id=collection_id, counted=False)
    engine = get_engine()
    vector = face_from_upload(engine=engine, data=image, field="image")
    model_version = embedding_model_version(engine.versions)
    if not collection_accepts(collection, engine=engine.name, model_version=model_version, dimension=vector.shape[0]):
        raise ApplicationError(
            f"The collection holds {collection.engine} embeddings ({collection.model_version}); "
            f"this server runs {engine.name} ({model_version}).",
            code="engine_mismatch",
            status=409,
        )
    match = face_best_match(engine=engine, collection=collection, embedding=vector)
    return Identification(match=match, threshold=float(engine.match_threshold))
