"""ID photos in any common format (004: "Any image format (JPG, PNG, etc.)").

The engine reads JPEG and PNG only; a WebP, GIF, BMP, TIFF or HEIC/HEIF photo (phones save HEIC) is
decoded with Pillow (HEIC through the pillow-heif plugin), turned upright by its EXIF orientation and
re-encoded as a JPEG before the engine sees it. Size limits are checked before any pixel is decoded.
"""

from __future__ import annotations

import io

from PIL import Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

from apps.core.errors import ApplicationError

register_heif_opener()

_ENGINE_FORMATS = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "HEIF")
MAX_PIXELS = 40_000_000


def _bad(field: str, detail: str) -> ApplicationError:
    message = f"{field} {detail}."
    return ApplicationError(message, code="badImage", status=400, fields={field: [message]})


def id_photo_for_engine(*, data: bytes, field: str = "id_photo") -> bytes:
    """``data`` itself when it is a JPEG or PNG, else the same picture as a JPEG; 400 badImage otherwise."""
    if data.startswith(_ENGINE_FORMATS):
        return data
    try:
        with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as source:
            if source.width * source.height > MAX_PIXELS:
                raise _bad(field, f"has more than {MAX_PIXELS} pixels")
            source.seek(0)  # an animated GIF or WebP: its first frame
            upright = ImageOps.exif_transpose(source).convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        raise _bad(field, "is not an image in a supported format (JPEG, PNG, WebP, GIF, BMP, TIFF, HEIC)") from None
    out = io.BytesIO()
    upright.save(out, format="JPEG", quality=92)
    return out.getvalue()
