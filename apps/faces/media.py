"""Turning an uploaded selfie video into JPEG frames for the engine (PyAV, any container FFmpeg reads)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import IO

import av
from PIL import Image

# Frames are scaled down before analysis: the engine needs a face, not 4K pixels.
MAX_FRAME_SIDE = 640


class VideoError(Exception):
    """The upload is not a decodable video with at least one frame."""


def video_frames(*, source: IO[bytes], max_seconds: float, sample_fps: float) -> Iterator[tuple[bytes, float]]:
    """JPEG frames and their timestamps (seconds from the first frame), at most ``sample_fps`` per second."""
    try:
        container = av.open(source, mode="r")
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        raise VideoError("selfie_video is not a readable video.") from exc
    with container:
        if not container.streams.video:
            raise VideoError("selfie_video has no video stream.")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        start: float | None = None
        last = -1.0
        produced = 0
        try:
            for frame in container.decode(stream):
                seconds = float(frame.time) if frame.time is not None else produced / max(sample_fps, 1.0)
                start = seconds if start is None else start
                elapsed = seconds - start
                if elapsed > max_seconds:
                    break
                if produced and elapsed - last < 1.0 / sample_fps - 1e-6:
                    continue
                last = elapsed
                produced += 1
                yield _jpeg(frame.to_image()), elapsed
        except av.error.FFmpegError as exc:
            if not produced:
                raise VideoError("selfie_video could not be decoded.") from exc
            # A truncated tail still leaves the frames decoded so far usable.
    if not produced:
        raise VideoError("selfie_video contains no frames.")


def _jpeg(image: Image.Image) -> bytes:
    image = image.convert("RGB")
    scale = MAX_FRAME_SIDE / max(image.size)
    if scale < 1:
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()
