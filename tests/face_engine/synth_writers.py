"""Writing frames as y4m (Chromium's fake camera), mp4, webm, JPEG folders and JPEG bytes.

Part of ``tests/face_engine/synthetic.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import cv2
import numpy as np

from tests.face_engine.synth_faces import Frame


def encode_jpeg(frame: Frame, quality: int = 90) -> bytes:
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buf.tobytes()


def decode_jpeg(data: bytes) -> Frame:
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _fps_fraction(fps: float) -> tuple[int, int]:
    from fractions import Fraction

    f = Fraction(fps).limit_denominator(1001)
    return f.numerator, f.denominator


def write_y4m(frames: Iterable[Frame], path: str | os.PathLike[str], fps: float = 15) -> Path:
    """YUV4MPEG2, 4:2:0 (BT.601), each frame preceded by exactly ``FRAME\\n`` (Chromium's fake camera)."""
    path = Path(path)
    num, den = _fps_fraction(fps)
    with path.open("wb") as out:
        header_written = False
        for frame in frames:
            h, w = frame.shape[:2]
            if w % 2 or h % 2:
                raise ValueError("y4m 4:2:0 needs even width and height")
            if not header_written:
                out.write(f"YUV4MPEG2 W{w} H{h} F{num}:{den} Ip A1:1 C420jpeg\n".encode("ascii"))
                header_written = True
            out.write(b"FRAME\n")
            out.write(cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2YUV_I420).tobytes())
    return path


def read_y4m(path: str | os.PathLike[str]) -> tuple[list[Frame], float]:
    """Frames (RGB) and frame rate of a 4:2:0 y4m file, as written by ``write_y4m``."""
    data = Path(path).read_bytes()
    end = data.index(b"\n")
    params = dict((tok[0], tok[1:]) for tok in data[:end].decode("ascii").split()[1:])
    w, h = int(params["W"]), int(params["H"])
    num, den = (int(x) for x in params["F"].split(":"))
    size = w * h * 3 // 2
    frames, pos = [], end + 1
    while pos < len(data):
        nl = data.index(b"\n", pos)
        if not data[pos:nl].startswith(b"FRAME"):
            raise ValueError(f"bad frame header at byte {pos}")
        pos = nl + 1
        yuv = np.frombuffer(data[pos : pos + size], np.uint8).reshape(h * 3 // 2, w)
        frames.append(cv2.cvtColor(yuv, cv2.COLOR_YUV2RGB_I420))
        pos += size
    return frames, num / den


def _write_av(frames: Iterable[Frame], path: Path, fps: float, codec: str, options: dict[str, str]) -> Path:
    import av

    num, den = _fps_fraction(fps)
    from fractions import Fraction

    with av.open(str(path), "w") as container:
        stream = None
        for frame in frames:
            if stream is None:
                stream = container.add_stream(codec, rate=Fraction(num, den))
                stream.width, stream.height = frame.shape[1], frame.shape[0]
                stream.pix_fmt = "yuv420p"
                stream.options = options
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")):
                container.mux(packet)
        if stream is not None:
            for packet in stream.encode():
                container.mux(packet)
    return path


def write_mp4(frames: Iterable[Frame], path: str | os.PathLike[str], fps: float = 15) -> Path:
    """H.264 (yuv420p) in MP4, near-lossless so the analysis sees what was generated."""
    return _write_av(frames, Path(path), fps, "libx264", {"crf": "16", "preset": "veryfast"})


def write_webm(frames: Iterable[Frame], path: str | os.PathLike[str], fps: float = 15) -> Path:
    """VP8 in WebM (what browsers' MediaRecorder produces)."""
    return _write_av(frames, Path(path), fps, "libvpx", {"b": "3M", "deadline": "realtime", "cpu-used": "16"})


def write_jpeg_folder(
    frames: Iterable[Frame], folder: str | os.PathLike[str], quality: int = 90, prefix: str = "frame_"
) -> list[Path]:
    """One JPEG per frame, named so that name order is frame order."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, frame in enumerate(frames):
        p = folder / f"{prefix}{i:05d}.jpg"
        p.write_bytes(encode_jpeg(frame, quality))
        paths.append(p)
    return paths


def write_video(frames: Sequence[Frame], path: str | os.PathLike[str], fps: float = 15) -> Path:
    """Pick the writer from the suffix: .y4m, .mp4, .webm, or a folder of JPEGs otherwise."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".y4m":
        return write_y4m(frames, path, fps)
    if suffix == ".mp4":
        return write_mp4(frames, path, fps)
    if suffix == ".webm":
        return write_webm(frames, path, fps)
    write_jpeg_folder(frames, path)
    return path
