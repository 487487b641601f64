"""Reading a recorded capture (video file or folder of JPEG frames) as (timestamp, JPEG bytes) pairs.

The engine consumes exactly what the browser sends: JPEG bytes. Folder frames
are passed through untouched; video frames are re-encoded once at high quality.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .decode import encode_jpeg

VIDEO_SUFFIXES = {".y4m", ".mp4", ".webm", ".mkv", ".mov", ".avi"}
FRAME_SUFFIXES = {".jpg", ".jpeg", ".png"}


class CaptureReadError(Exception):
    """The path is not a readable video or frame folder."""


def read_capture(path: str | Path, *, fps: float = 15.0, max_frames: int = 10_000) -> Iterator[tuple[float, bytes]]:
    """Frames of ``path`` in order with their time in seconds (folders: name order at ``fps``)."""
    p = Path(path)
    if fps <= 0:
        raise CaptureReadError("fps must be positive")
    if p.is_dir():
        files = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in FRAME_SUFFIXES)
        if not files:
            raise CaptureReadError(f"{p} holds no .jpg/.jpeg/.png frames")
        for i, f in enumerate(files[:max_frames]):
            yield i / fps, f.read_bytes()
        return
    if not p.is_file():
        raise CaptureReadError(f"{p} does not exist")
    yield from _read_video(p, fps=fps, max_frames=max_frames)


def _read_video(path: Path, *, fps: float, max_frames: int) -> Iterator[tuple[float, bytes]]:
    import av  # PyAV: imported here so the engine itself does not need FFmpeg

    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        raise CaptureReadError(f"{path} is not a readable video: {exc}") from exc
    with container:
        if not container.streams.video:
            raise CaptureReadError(f"{path} has no video stream")
        stream = container.streams.video[0]
        try:
            for i, frame in enumerate(container.decode(stream)):
                if i >= max_frames:
                    break
                t = float(frame.time) if frame.time is not None else i / fps
                bgr = np.ascontiguousarray(frame.to_ndarray(format="bgr24"))
                yield t, encode_jpeg(bgr, quality=92)
        except av.error.FFmpegError as exc:
            raise CaptureReadError(f"{path} could not be decoded: {exc}") from exc
