"""What a check's stored files are, named and served by the content that was checked, never by the client's name.

A file named ``id.html`` (a PNG whose text chunk holds a script tag) or ``id.js`` (a BMP that is also
JavaScript) passes every image check; served under its own name's type it ran as a page or a script on
this origin, the admin's too. The stored name's extension now comes from the container FFmpeg decoded
or the format Pillow (or the engine) read, and a file is served inline only under one of those image or
video types; anything else (a name kept from a check stored before this) is a download.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from django.core.files import File
from django.http import FileResponse


@dataclass(frozen=True)
class FileType:
    extension: str
    content_type: str


UNKNOWN = FileType(".bin", "application/octet-stream")

# PyAV's names of FFmpeg's demuxers (``container.format.name``); a QuickTime .mov is read by the MP4 one.
_VIDEOS = {
    "mov,mp4,m4a,3gp,3g2,mj2": FileType(".mp4", "video/mp4"),
    "matroska,webm": FileType(".webm", "video/webm"),
    "ogg": FileType(".ogv", "video/ogg"),
    "avi": FileType(".avi", "video/x-msvideo"),
}
# Pillow's format names (apps/faces/id_photo.ACCEPTED_FORMATS).
_IMAGES = {
    "JPEG": FileType(".jpg", "image/jpeg"),
    "PNG": FileType(".png", "image/png"),
    "WEBP": FileType(".webp", "image/webp"),
    "GIF": FileType(".gif", "image/gif"),
    "BMP": FileType(".bmp", "image/bmp"),
    "TIFF": FileType(".tiff", "image/tiff"),
    "HEIF": FileType(".heic", "image/heic"),
}
_BY_EXTENSION = {kind.extension: kind for kind in (*_VIDEOS.values(), *_IMAGES.values())}
# No script, plugin, form or style even if a browser took the file for a page. The sandbox keeps the origin
# (allow-same-origin, but never allow-scripts): Chromium's viewer loads a video with crossorigin="anonymous",
# which an opaque origin fails.
FILE_CSP = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox allow-same-origin"


def video_file_type(container: str) -> FileType:
    """The type of a video FFmpeg decoded with the demuxer named ``container``."""
    return _VIDEOS.get(container, UNKNOWN)


def image_file_type(image_format: str) -> FileType:
    """The type of an image that decoded as ``image_format`` (Pillow's name: JPEG, PNG, ...)."""
    return _IMAGES.get(image_format, UNKNOWN)


def stored_file_response(*, file: File, name: str, as_attachment: bool) -> FileResponse:
    """A stored file served by its stored name's extension (set from its content), locked down either way."""
    kind = _BY_EXTENSION.get(os.path.splitext(name)[1].lower(), UNKNOWN)
    inline = not as_attachment and kind is not UNKNOWN
    response = FileResponse(file, as_attachment=not inline, filename=name, content_type=kind.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    return response
