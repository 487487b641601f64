"""Turning an uploaded selfie video into JPEG frames for the engine (PyAV, any container FFmpeg reads)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import IO

import av

# Frames are scaled down before analysis: the engine needs a face, not 4K pixels.
MAX_FRAME_SIDE = 640
# A frame larger than this is refused before it is decoded (8K UHD is 33 Mpx; a crafted 10000x10000 MJPEG frame
# would take 1.5 GB to decode and convert).
MAX_FRAME_PIXELS = 40_000_000
# Frames decoded per second of the video that is read, at most: 60 fps and a margin. The time cap counts
# timestamps, so a file stamped at 1,000,000 fps would otherwise have millions of frames decoded.
MAX_DECODED_PER_SECOND = 120


class VideoError(Exception):
    """The upload is not a decodable video with at least one frame."""


def video_container(*, source: IO[bytes]) -> str:
    """The name of the FFmpeg demuxer that reads ``source`` (``matroska,webm``, ``mov,mp4,m4a,3gp,3g2,mj2``, ...)."""
    source.seek(0)
    try:
        with av.open(source, mode="r") as container:
            return str(container.format.name)
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        raise VideoError("selfie_video is not a readable video.") from exc
    finally:
        source.seek(0)


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
        width, height = stream.codec_context.width or 0, stream.codec_context.height or 0
        if width * height > MAX_FRAME_PIXELS:
            raise VideoError(f"selfie_video frames have more than {MAX_FRAME_PIXELS} pixels.")
        start: float | None = None
        last = -1.0
        produced = 0
        budget = int(max_seconds * MAX_DECODED_PER_SECOND) + 1
        try:
            for decoded, frame in enumerate(container.decode(stream)):
                if decoded >= budget or frame.width * frame.height > MAX_FRAME_PIXELS:
                    break  # too many frames for the time read, or a frame grown past the limit mid-stream
                seconds = float(frame.time) if frame.time is not None else produced / max(sample_fps, 1.0)
                start = seconds if start is None else start
                elapsed = seconds - start
                if elapsed > max_seconds:
                    break
                if produced and elapsed - last < 1.0 / sample_fps - 1e-6:
                    continue
                last = elapsed
                produced += 1
                yield _jpeg(frame), elapsed
        except av.error.FFmpegError as exc:
            if not produced:
                raise VideoError("selfie_video could not be decoded.") from exc
            # A truncated tail still leaves the frames decoded so far usable.
    if not produced:
        raise VideoError("selfie_video contains no frames.")


def _jpeg(frame: av.VideoFrame) -> bytes:
    """The frame as a JPEG at most MAX_FRAME_SIDE a side, scaled by FFmpeg's swscale (no full-size RGB copy)."""
    scale = min(1.0, MAX_FRAME_SIDE / max(frame.width, frame.height, 1))
    width, height = max(1, round(frame.width * scale)), max(1, round(frame.height * scale))
    image = frame.reformat(width=width, height=height, format="rgb24").to_image()
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()
