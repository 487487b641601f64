"""No byte string crashes the decoder or either offline engine: every failure is a typed FrameError."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from apps.face_engine.decode import JPEG_MAGIC, PNG_MAGIC, decode_image
from apps.face_engine.types import CapturePlan, FrameError


def _seed_image(fmt: str) -> bytes:
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)).save(buf, fmt)
    return buf.getvalue()


SEEDS = [_seed_image("JPEG"), _seed_image("PNG")]


def _mutated() -> st.SearchStrategy[bytes]:
    """Real JPEG/PNG files with bytes overwritten, truncated or appended: the header parsers' hard cases."""

    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        data = bytearray(draw(st.sampled_from(SEEDS)))
        for _ in range(draw(st.integers(0, 8))):
            pos = draw(st.integers(0, len(data) - 1))
            data[pos] = draw(st.integers(0, 255))
        cut = draw(st.integers(1, len(data)))
        return bytes(data[:cut]) + draw(st.binary(max_size=16))

    return build()


def _assert_safe(data: bytes) -> None:
    try:
        img = decode_image(data, color=True)
    except FrameError as exc:
        assert exc.code in {"badImage", "tooLarge", "tooManyPixels", "unsupportedFormat"}
    else:
        assert img.gray.ndim == 2 and img.gray.dtype == np.uint8


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=512))
def test_no_random_byte_string_crashes_the_decoder(data: bytes) -> None:
    _assert_safe(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([JPEG_MAGIC, PNG_MAGIC]), st.binary(max_size=512))
def test_no_byte_string_behind_an_image_signature_crashes_the_decoder(magic: bytes, rest: bytes) -> None:
    _assert_safe(magic + rest)


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated())
def test_no_corrupted_real_image_crashes_the_decoder(data: bytes) -> None:
    _assert_safe(data)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(st.one_of(st.binary(max_size=256), _mutated()))
def test_no_byte_string_crashes_frame_analysis(each_engine, data: bytes) -> None:
    state = each_engine.new_capture(CapturePlan(mode="active", challenges=("blink",)))
    try:
        result = each_engine.analyze_frame(state, data, 0.0)
    except FrameError:
        return
    assert result.face_count == 0  # noise has no face in it
    assert "noFace" in result.feedback
