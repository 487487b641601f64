"""Frame input: JPEG/PNG only, size and pixel limits, decompression bombs, EXIF orientation."""

from __future__ import annotations

import io
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from apps.face_engine.decode import decode_image
from apps.face_engine.types import CapturePlan, FrameError


def _jpeg(width: int = 64, height: int = 48, *, exif_orientation: int | None = None, quality: int = 90) -> bytes:
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[:, : width // 2] = 255  # left half white: shows which way the image was turned
    img = Image.fromarray(pixels)
    buf = io.BytesIO()
    if exif_orientation is None:
        img.save(buf, "JPEG", quality=quality)
    else:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        img.save(buf, "JPEG", quality=quality, exif=exif.tobytes())
    return buf.getvalue()


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header declares ``width`` x ``height`` but carries almost no data: a bomb's shape."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_it_decodes_a_jpeg_frame_to_grayscale_only_when_colour_is_not_asked_for() -> None:
    img = decode_image(_jpeg(64, 48), color=False)
    assert img.gray.shape == (48, 64)
    assert img.bgr is None
    assert img.format == "jpeg"


def test_it_decodes_png_uploads_in_colour() -> None:
    _ok, png = cv2.imencode(".png", np.full((30, 40, 3), (10, 20, 30), np.uint8))
    img = decode_image(png.tobytes())
    assert img.format == "png"
    assert img.bgr is not None and img.bgr.shape == (30, 40, 3)
    assert tuple(img.bgr[0, 0]) == (10, 20, 30)


def test_it_refuses_a_frame_over_one_and_a_half_megabytes() -> None:
    data = _jpeg() + b"\x00" * 1_500_001
    with pytest.raises(FrameError) as err:
        decode_image(data)
    assert err.value.code == "tooLarge"


@pytest.mark.parametrize(("width", "height"), [(4097, 8), (8, 4097)])
def test_it_refuses_images_with_a_side_over_4096_pixels(width: int, height: int) -> None:
    with pytest.raises(FrameError) as err:
        decode_image(_png_header_only(width, height))
    assert err.value.code == "tooManyPixels"


def test_it_refuses_a_decompression_bomb_before_decoding_a_pixel() -> None:
    bomb = _png_header_only(60_000, 60_000)  # 3.6 gigapixels declared in ~100 bytes
    assert len(bomb) < 200
    with pytest.raises(FrameError) as err:
        decode_image(bomb)
    assert err.value.code == "tooManyPixels"


def test_it_accepts_an_image_of_exactly_4096_pixels_a_side() -> None:
    _ok, png = cv2.imencode(".png", np.zeros((4096, 16), np.uint8))
    assert decode_image(png.tobytes(), color=False).gray.shape == (4096, 16)


@pytest.mark.parametrize("orientation", [6, 8])
def test_it_applies_the_exif_orientation_of_a_phone_photo(orientation: int) -> None:
    img = decode_image(_jpeg(64, 48, exif_orientation=orientation), color=False)
    assert img.gray.shape == (64, 48)  # stored landscape, shown portrait
    top, bottom = img.gray[:8].mean(), img.gray[-8:].mean()
    # Orientation 6 turns the white left half to the top; 8 turns it to the bottom.
    assert (top > bottom) if orientation == 6 else (bottom > top)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"GIF89a\x01\x00\x01\x00", "unsupportedFormat"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "unsupportedFormat"),
        (b"", "unsupportedFormat"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 40, "badImage"),
        (b"\x89PNG\r\n\x1a\n" + b"garbage", "badImage"),
    ],
)
def test_undecodable_input_gets_a_typed_error(data: bytes, code: str) -> None:
    with pytest.raises(FrameError) as err:
        decode_image(data)
    assert err.value.code == code


def test_the_engine_answers_a_bad_frame_with_a_frame_error_and_keeps_its_state(each_engine) -> None:
    state = each_engine.new_capture(CapturePlan(mode="passive"))
    before = state.to_json()
    with pytest.raises(FrameError):
        each_engine.analyze_frame(state, b"not an image", 0.0)
    assert state.to_json() == before


def test_it_refuses_a_still_upload_without_exactly_one_face(each_engine) -> None:
    from apps.face_engine.types import FaceImageError

    with pytest.raises(FaceImageError) as err:
        each_engine.face_from_image(_jpeg(320, 240))
    assert err.value.code == "noFace"
    with pytest.raises(FaceImageError) as err:
        each_engine.face_from_image(b"\x00\x01")
    assert err.value.code == "badImage"


@pytest.mark.parametrize(
    "options",
    [{}, {"progressive": True}, {"optimize": True}, {"subsampling": 0}, {"dpi": (72, 72)}, {"comment": b"x" * 300}],
)
@pytest.mark.parametrize("size", [(640, 480), (1, 1), (4096, 3)])
def test_the_quick_jpeg_header_path_reads_the_same_size_as_pillow(options: dict, size: tuple[int, int]) -> None:
    from apps.face_engine.decode import _plain_jpeg_size

    buf = io.BytesIO()
    Image.new("RGB", size, (90, 120, 150)).save(buf, "JPEG", **options)
    data = buf.getvalue()
    assert _plain_jpeg_size(data) == Image.open(io.BytesIO(data)).size == size
    assert decode_image(data, max_side=4096).gray.shape == (size[1], size[0])


def test_a_jpeg_with_exif_or_a_broken_segment_goes_the_careful_way() -> None:
    from apps.face_engine.decode import _plain_jpeg_size

    assert _plain_jpeg_size(_jpeg(exif_orientation=6)) is None
    plain = _jpeg()
    assert _plain_jpeg_size(plain[:4] + b"\xff\xff" + plain[6:]) is None  # a segment longer than the file
    assert _plain_jpeg_size(plain[:20]) is None  # cut before the frame header
    with pytest.raises(FrameError):
        decode_image(plain[:20])
