"""A capture state's JPEGs stored apart (``to_json(blobs=...)``): a frame moves a few KB, the verdict gets them back.

The best frame and the key-frame crops are most of a state (about 120 of 135 KB after a few seconds) and change
only when a better or a new one is kept; the session flow stores them once each (apps/sessions/state_store.py).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from apps.face_engine.pipeline import Engine
from apps.face_engine.state import CaptureData
from apps.face_engine.types import CapturePlan, FrameError
from tests.face_engine.synth_capture import passive_clip

JPEG_MAGIC = b"\xff\xd8\xff"


def _state(engine: Engine, frames: int = 40) -> CaptureData:
    state = engine.new_capture(CapturePlan(mode="passive"))
    for i, jpeg in enumerate(passive_clip(seconds=5.0)[:frames]):
        state = engine.analyze_frame(state, jpeg, i / 10).state
    assert isinstance(state, CaptureData) and state.best is not None and state.keys
    return state


def test_the_jpegs_leave_the_state_as_references_and_come_back_identical(engine: Engine) -> None:
    state = _state(engine)
    inline = state.to_json()
    blobs: dict[str, bytes | None] = {}
    text = state.to_json(blobs=blobs)
    data = json.loads(text)
    assert "jpeg" not in data["best"] and all("jpeg" not in key for key in data["keys"])
    assert len(blobs) == 1 + len(state.keys) and all(v and v.startswith(JPEG_MAGIC) for v in blobs.values())
    assert len(text) < len(inline) / 3, (len(text), len(inline))

    stored = {ref: jpeg for ref, jpeg in blobs.items() if jpeg}
    back = CaptureData.from_json(text, stored)
    assert back.to_json() == inline  # every JPEG, box, score and embedding as before
    assert engine.decide(back) == engine.decide(CaptureData.from_json(inline))


def test_a_frame_goes_on_without_the_jpegs_and_keeps_their_references(engine: Engine) -> None:
    state = _state(engine, frames=30)
    blobs: dict[str, bytes | None] = {}
    text = state.to_json(blobs=blobs)
    light = engine.load_capture(text)  # what a frame's worker loads: no JPEG bytes
    assert isinstance(light, CaptureData) and light.best is not None and light.best.jpeg == b""
    result = engine.analyze_frame(light, passive_clip(seconds=5.0)[30], 3.0)

    again: dict[str, bytes | None] = {}
    result.state.to_json(blobs=again)
    # JPEGs kept before: the same references, no bytes to write again; a new best or key frame: its bytes.
    assert all(again[ref] is None for ref in again if ref in blobs)
    assert all(again[ref] for ref in again if ref not in blobs)
    assert engine.key_frames_pending(light) == () or all(k.jpeg for k in engine.key_frames_pending(light))


def test_a_missing_jpeg_drops_its_frame_instead_of_breaking_the_verdict(engine: Engine) -> None:
    state = _state(engine)
    blobs: dict[str, bytes | None] = {}
    text = state.to_json(blobs=blobs)
    assert state.best is not None and state.best.ref is not None
    evicted = {ref: jpeg for ref, jpeg in blobs.items() if jpeg and ref != state.best.ref}
    back = CaptureData.from_json(text, evicted)
    assert back.best is None and len(back.keys) == len(state.keys)
    engine.decide(back)  # no exception: a verdict without the best frame's photo


def test_a_state_written_before_the_change_still_loads(engine: Engine) -> None:
    state = _state(engine)
    old = json.loads(state.to_json())
    old["v"] = 3  # the previous version: every JPEG inline
    back = CaptureData.from_json(json.dumps(old))
    assert back.best is not None and back.best.jpeg == state.best.jpeg  # type: ignore[union-attr]


def test_the_state_reads_as_the_json_it_always_was(engine: Engine) -> None:
    """Written by orjson now: the same JSON values as the standard library's (states in flight across an
    upgrade load either way), and a state the standard library wrote loads as before."""
    state = _state(engine)
    text = state.to_json(blobs={})
    data = json.loads(text)
    data.pop("v")
    legacy = json.dumps({**data, "v": 4}, separators=(",", ":"))
    assert CaptureData.from_json(legacy).to_json(blobs={}) == text
    assert json.loads(text)["series"] == [list(row) for row in state.series]


def test_numpy_numbers_in_the_state_are_written_as_json_wrote_them(engine: Engine) -> None:
    """``json`` wrote a ``numpy.float64`` (a float) as a number; plain orjson refuses numpy scalars."""
    state = _state(engine)
    state.max_thumb_diff = np.float64(0.125)  # type: ignore[assignment]
    back = CaptureData.from_json(state.to_json(blobs={}))
    assert back.max_thumb_diff == 0.125 and type(back.max_thumb_diff) is float


def test_a_measure_that_is_no_number_refuses_the_state_instead_of_failing_later(engine: Engine) -> None:
    state = _state(engine)
    state.series[-1] = state.series[-1]._replace(eye_open=float("nan"))
    text = state.to_json(blobs={})  # orjson writes a non-finite float as null
    with pytest.raises(FrameError) as refused:
        CaptureData.from_json(text)
    assert refused.value.code == "badState"
    data = json.loads(text)
    data["series"][-1][3] = float("nan")  # what a release before orjson wrote: NaN, which orjson does not read
    assert math.isnan(CaptureData.from_json(json.dumps(data)).series[-1].eye_open)
