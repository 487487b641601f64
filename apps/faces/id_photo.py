"""ID photos in any common format (004: "Any image format (JPG, PNG, etc.)"), and photos too large for the engine.

The engine reads JPEG and PNG only; a WebP, GIF, BMP, TIFF or HEIC/HEIF photo (phones save HEIC) is
decoded with Pillow (HEIC through the pillow-heif plugin), turned upright by its EXIF orientation and
re-encoded as a JPEG before the engine sees it. ``picture_upright`` is the one way an uploaded picture
is decoded with Pillow: its size is checked from the header before any pixel is decoded, a JPEG is
decoded at the smallest scale that still gives what is needed, 16-bit grey is scaled (not clipped) to
8 bits, and whatever the decoder or the EXIF data throws is a 400 ``badImage``.
"""

from __future__ import annotations

import io
import logging

import numpy as np
from PIL import Image, ImageOps
from pillow_heif import register_heif_opener

from apps.core.errors import ApplicationError

register_heif_opener()
logger = logging.getLogger(__name__)

_JPEG, _PNG = b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"
_ENGINE_FORMATS = (_JPEG, _PNG)
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "HEIF")
MAX_PIXELS = 40_000_000
_UNSUPPORTED = "is not an image in a supported format (JPEG, PNG, WebP, GIF, BMP, TIFF, HEIC)"


def _bad(field: str, detail: str) -> ApplicationError:
    message = f"{field} {detail}."
    return ApplicationError(message, code="badImage", status=400, fields={field: [message]})


def _eight_bit(image: Image.Image) -> Image.Image:
    """16- and 32-bit grey scaled to 0..255 (Pillow's own conversion clips them: a 16-bit scan turns white)."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        pixels = np.asarray(image, dtype=np.float64) / 257.0  # 16-bit range (an "I" PNG holds 16-bit values)
        return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), mode="L")
    if image.mode == "F":
        return Image.fromarray(np.clip(np.asarray(image), 0, 255).astype(np.uint8), mode="L")
    return image


def picture_upright(
    *, data: bytes, field: str, formats: tuple[str, ...] = ACCEPTED_FORMATS, fit: int | None = None
) -> Image.Image:
    """The picture as upright RGB (at most ``fit`` px a side when given); 400 badImage naming ``field``."""
    try:
        with Image.open(io.BytesIO(data), formats=formats) as source:
            if source.width * source.height > MAX_PIXELS:
                raise _bad(field, f"has more than {MAX_PIXELS} pixels")
            source.seek(0)  # an animated GIF or WebP: its first frame
            if fit is not None and source.format == "JPEG":
                source.draft("RGB", (fit, fit))  # decode at 1/2, 1/4 or 1/8 scale when that is enough
            try:
                upright = ImageOps.exif_transpose(source)
            except Exception:  # malformed EXIF (a tag of the wrong type): keep the picture as stored
                logger.info("Ignoring the unreadable EXIF data of an uploaded %s", field)
                upright = source.copy()
            upright = _eight_bit(upright).convert("RGB")
            if fit is not None:
                upright.thumbnail((fit, fit))
    except ApplicationError:
        raise
    except Exception:  # Pillow and its plugins raise anything from OSError to struct.error or EOFError
        raise _bad(field, _UNSUPPORTED) from None
    return upright


def id_photo_for_engine(*, data: bytes, field: str = "id_photo") -> bytes:
    """``data`` itself when it is a JPEG or PNG, else the same picture as a JPEG; 400 badImage otherwise."""
    if data.startswith(_ENGINE_FORMATS):
        return data
    out = io.BytesIO()
    picture_upright(data=data, field=field).save(out, format="JPEG", quality=92)
    return out.getvalue()


def id_photo_format(*, data: bytes) -> str:
    """The format ``data`` was read as: JPEG or PNG (the engine decodes those itself), else Pillow's name for it."""
    if data.startswith(_JPEG):
        return "JPEG"
    if data.startswith(_PNG):
        return "PNG"
    try:
        with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as source:
            return str(source.format or "")
    except Exception:  # as in picture_upright: anything Pillow throws means no known format
        return ""
