"""Turning untrusted bytes into pixels, safely.

Every frame and upload comes from the internet, so the header is checked
before a single pixel is decoded: format by magic bytes (JPEG, PNG only), the
byte size, and the declared width and height (a decompression bomb declares a
huge canvas in a few bytes). EXIF orientation is applied so a phone photo
taken upright is analysed upright. Any failure is a ``FrameError``; no byte
string may raise anything else.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

from .types import FrameError

# Every truncated upload would otherwise print an OpenCV warning: an attacker could flood the logs.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# EXIF orientation -> the cv2 rotate/flip steps that make the image upright.
_ORIENT_OPS: dict[int, tuple[int | None, int | None]] = {
    # orientation: (flip code or None, rotate code or None), flip applied first
    2: (1, None),
    3: (None, cv2.ROTATE_180),
    4: (0, None),
    5: (1, cv2.ROTATE_90_COUNTERCLOCKWISE),
    6: (None, cv2.ROTATE_90_CLOCKWISE),
    7: (1, cv2.ROTATE_90_CLOCKWISE),
    8: (None, cv2.ROTATE_90_COUNTERCLOCKWISE),
}


@dataclass(frozen=True)
class DecodedImage:
    """An upright image: ``gray`` always, ``bgr`` only when colour was asked for."""

    gray: npt.NDArray[Any]  # uint8 (H, W)
    bgr: npt.NDArray[Any] | None  # uint8 (H, W, 3)
    format: str  # "jpeg" or "png"


def sniff_format(data: bytes) -> str:
    """``jpeg`` or ``png`` from the magic bytes, else FrameError(unsupportedFormat)."""
    if data.startswith(JPEG_MAGIC):
        return "jpeg"
    if data.startswith(PNG_MAGIC):
        return "png"
    raise FrameError("unsupportedFormat", "Only JPEG and PNG images are accepted.")


# Start-of-frame markers (baseline, progressive, lossless, arithmetic): they carry the size.
_SOF_MARKERS = frozenset((0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF))


def _plain_jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a JPEG without EXIF, read from its frame header; None to let Pillow decide.

    A browser's canvas frames have no EXIF: walking their few markers costs a few
    microseconds where opening them with Pillow costs ~0.3 ms on every frame. Anything
    unusual (EXIF, a truncated or odd segment) returns None and goes the careful way.
    """
    i, end = 2, len(data)
    while i + 4 <= end:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if length < 2 or i + 2 + length > end:
            return None
        if marker in _SOF_MARKERS:
            if length < 7:
                return None
            height = int.from_bytes(data[i + 5 : i + 7], "big")
            width = int.from_bytes(data[i + 7 : i + 9], "big")
            return width, height
        if marker == 0xE1 or marker in (0xDA, 0xD9):  # EXIF (or any APP1), or scan data before a frame header
            return None
        i += 2 + length
    return None


def _header(data: bytes, fmt: str) -> tuple[int, int, int]:
    """(width, height, EXIF orientation) from the header only; nothing is decoded yet."""
    if fmt == "jpeg" and (size := _plain_jpeg_size(data)) is not None:
        return size[0], size[1], 1
    try:
        # Pillow's own bomb warning is ignored (apps/face_engine/__init__.py): a stricter limit is enforced below.
        with Image.open(io.BytesIO(data), formats=[fmt.upper()]) as img:
            width, height = img.size
            orientation = 1
            if fmt == "jpeg":
                try:
                    orientation = int(img.getexif().get(0x0112, 1))
                except Exception:
                    orientation = 1
    except Image.DecompressionBombError as exc:
        raise FrameError("tooManyPixels", "The image declares too many pixels.") from exc
    except Exception as exc:
        raise FrameError("badImage", "The image cannot be read.") from exc
    return width, height, orientation


def decode_image(
    data: bytes,
    *,
    max_bytes: int = 1_500_000,
    max_side: int = 4096,
    color: bool = True,
) -> DecodedImage:
    """Decode a JPEG or PNG within the limits, upright, or raise FrameError.

    ``color=False`` decodes grayscale only, which is what per-frame tracking
    needs and is noticeably cheaper.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise FrameError("badImage", "The frame must be binary image data.")
    data = bytes(data)
    if len(data) > max_bytes:
        raise FrameError("tooLarge", f"The image is larger than {max_bytes} bytes.")
    fmt = sniff_format(data)
    width, height, orientation = _header(data, fmt)
    if width <= 0 or height <= 0:
        raise FrameError("badImage", "The image has no pixels.")
    if width > max_side or height > max_side:
        raise FrameError("tooManyPixels", f"The image is larger than {max_side}x{max_side} pixels.")
    flags = (cv2.IMREAD_COLOR if color else cv2.IMREAD_GRAYSCALE) | cv2.IMREAD_IGNORE_ORIENTATION
    try:
        pixels = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    except cv2.error as exc:
        raise FrameError("badImage", "The image cannot be decoded.") from exc
    if pixels is None or pixels.size == 0 or pixels.shape[0] != height or pixels.shape[1] != width:
        raise FrameError("badImage", "The image cannot be decoded.")
    pixels = _upright(pixels, orientation)
    if color:
        bgr = np.ascontiguousarray(pixels)
        gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        return DecodedImage(gray=gray, bgr=bgr, format=fmt)
    return DecodedImage(gray=np.ascontiguousarray(pixels), bgr=None, format=fmt)


def _upright(pixels: npt.NDArray[Any], orientation: int) -> npt.NDArray[Any]:
    flip, rotate = _ORIENT_OPS.get(orientation, (None, None))
    if flip is not None:
        pixels = cv2.flip(pixels, flip)
    if rotate is not None:
        pixels = cv2.rotate(pixels, rotate)
    return pixels


def encode_jpeg(bgr: npt.NDArray[Any], *, quality: int = 90) -> bytes:
    """JPEG bytes of a BGR (or gray) image."""
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover - cv2 only fails on empty arrays, which we never pass
        raise FrameError("badImage", "The image cannot be encoded.")
    return buf.tobytes()
