"""Same-person key frames, and their embeddings computed apart from the frames (issue 4, item 11).

A key frame is kept as a face crop: the first frame after the baseline, whenever
the tracked face may have changed, and every 3 s as a guard. Its descriptor
(~70 ms with dlib) is computed only when something uses it (two key frames to
compare, an embedding to report), possibly elsewhere while the capture goes on
(``embed_key_frame``, handed back with ``with_key_embeddings``); ``decide``
computes whatever is still missing.
"""

from __future__ import annotations

import numpy as np
import pytest

from apps.face_engine.pipeline import Engine
from apps.face_engine.state import CaptureData
from apps.face_engine.types import CapturePlan
from tests.face_engine.synth_capture import attack_clip, live_clip, passive_clip


class CountingBackend:
    """The real backend, counting the descriptors it computes and its searches for a face's points (nothing is
    replaced)."""

    def __init__(self, backend: object) -> None:
        self._backend = backend
        self.embeddings = 0
        self.searches = 0  # landmark fits and mesh runs

    def embedding(self, *args: object) -> object:
        self.embeddings += 1
        return self._backend.embedding(*args)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        found = getattr(self._backend, name)
        if name not in ("landmarks", "mesh"):
            return found

        def counted(*args: object) -> object:
            self.searches += 1
            return found(*args)

        return counted


@pytest.fixture
def counting(each_engine: Engine) -> tuple[Engine, CountingBackend]:
    backend = CountingBackend(each_engine.backend)
    return Engine(backend, each_engine.settings), backend  # type: ignore[arg-type]


def _state(
    engine: Engine, jpegs, *, mode: str, challenges: tuple[str, ...] = (), want_embedding: bool = True
) -> CaptureData:
    """The state at the end of a capture, before any verdict (``want_embedding``: face recognition is on)."""
    plan = CapturePlan(mode=mode, challenges=challenges, want_embedding=want_embedding)  # type: ignore[arg-type]
    state = engine.new_capture(plan)
    for i, jpeg in enumerate(jpegs):
        result = engine.analyze_frame(state, jpeg, i / 15)
        state = result.state
        if result.capture_complete:
            break
    return CaptureData.from_json(state.to_json())


def _embedded(engine: Engine, state: CaptureData) -> CaptureData:
    found = {p.t: engine.embed_key_frame(p.jpeg, p.box, p.points) for p in engine.key_frames_pending(state)}
    return engine.with_key_embeddings(state, {t: e for t, e in found.items() if e is not None})  # type: ignore[return-value]


def test_a_continuously_tracked_passive_capture_keeps_its_first_and_its_completing_frame(each_engine: Engine) -> None:
    state = _state(each_engine, passive_clip("astronaut"), mode="passive")
    assert len(state.keys) == 2 and state.best is not None and state.keys[0].t == state.best.t
    assert state.complete and state.keys[1].t == state.t_last  # whoever answered last is compared too
    pending = each_engine.key_frames_pending(state)
    assert [p.t for p in pending] == [k.t for k in state.keys]
    assert pending[0].jpeg.startswith(b"\xff\xd8")  # a face crop as JPEG; no descriptor in the frame path
    assert pending[0].box is not None  # where the tracked face is in it: nobody has to find it again


def test_an_embedding_handed_back_is_kept_and_survives_the_state_round_trip(each_engine: Engine) -> None:
    state = _state(each_engine, passive_clip("astronaut"), mode="passive")
    embedded = _embedded(each_engine, state)
    key = CaptureData.from_json(embedded.to_json()).keys[0]
    assert key.embedding is not None and len(key.embedding) == each_engine.backend.embedding_size
    assert each_engine.key_frames_pending(embedded) == ()
    assert each_engine.key_frames_pending(state) != ()  # the original state is not changed


def test_decide_computes_no_descriptor_for_key_frames_already_embedded(counting) -> None:
    engine, backend = counting
    state = _state(engine, passive_clip("astronaut"), mode="passive")
    assert backend.embeddings == 0  # none while the frames were analysed
    embedded = _embedded(engine, state)
    assert backend.embeddings == 2
    verdict = engine.decide(embedded)
    assert verdict.verdict == "pass", verdict.reasons
    assert backend.embeddings == 2  # the best frame is the first key frame: its embedding is reused
    assert verdict.embedding is not None and len(verdict.embedding) == backend.embedding_size


def test_decide_embeds_what_nobody_embedded(counting) -> None:
    engine, backend = counting
    state = _state(engine, passive_clip("astronaut"), mode="passive")
    verdict = engine.decide(state)
    assert verdict.verdict == "pass", verdict.reasons
    assert backend.embeddings == 2
    assert verdict.embedding == engine.decide(_embedded(engine, state)).embedding


def test_decide_and_the_key_frame_worker_take_the_faces_landmarks_from_the_frames_own_analysis(counting) -> None:
    """Each kept frame carries the landmarks (and the best frame its measures) its frame's analysis found, so
    neither the verdict nor the key-frame worker runs the landmark model or the mesh on it again (a mesh run
    each, about 6 ms, twice per passive verdict). A state without them (kept by an earlier version) is still
    judged: the face is found again in each JPEG, and the same person is seen."""
    engine, backend = counting
    state = _state(engine, passive_clip("astronaut"), mode="passive")
    kept = [state.best, *state.keys]
    assert all(k is not None and k.points is not None and len(k.points) == 136 for k in kept)
    assert state.best is not None and state.best.measures is not None and len(state.best.measures) == 9
    assert all(p.points is not None for p in engine.key_frames_pending(state))

    backend.searches = 0
    verdict = engine.decide(_embedded(engine, state))
    assert backend.searches == 0
    assert verdict.verdict == "pass", verdict.reasons
    assert verdict.icao is not None and verdict.age_gender is not None

    earlier = CaptureData.from_json(state.to_json())
    for k in [earlier.best, *earlier.keys]:
        assert k is not None
        k.points = k.measures = None
    assert all(p.points is None for p in engine.key_frames_pending(earlier))
    again = engine.decide(earlier)
    assert backend.searches == 3  # both key frames and the best frame, found again
    assert again.verdict == "pass", again.reasons
    assert verdict.embedding is not None and again.embedding is not None
    similarity = backend.similarity(np.asarray(verdict.embedding), np.asarray(again.embedding))
    assert similarity >= backend.match_threshold + 0.3


def test_kept_landmarks_that_are_malformed_are_found_again() -> None:
    from apps.face_engine.state import KeyFrame

    good = KeyFrame(t=1.0, jpeg=b"x", points=[1.5] * 136, measures=[0.5] * 9)
    assert KeyFrame.from_obj(good.to_obj()).points == [1.5] * 136
    assert KeyFrame.from_obj(good.to_obj()).measures == [0.5] * 9
    for bad in ([1.0] * 135, [1.0] * 135 + [float("nan")], [1.0] * 135 + ["1"], "1,2", None, [True] * 136):
        obj = {**good.to_obj(), "points": bad, "measures": bad}
        assert KeyFrame.from_obj(obj).points is None and KeyFrame.from_obj(obj).measures is None


def test_one_key_frame_and_no_face_recognition_needs_no_descriptor_at_all(counting) -> None:
    """Nothing to compare it with and nothing to report: the ~70 ms would be spent for nothing."""
    engine, backend = counting
    cut_short = passive_clip("astronaut")[:20]  # 1.3 s: one key frame, no completing one
    state = _state(engine, cut_short, mode="passive", want_embedding=False)
    assert len(state.keys) == 1 and engine.key_frames_pending(state) == ()
    verdict = engine.decide(state)
    assert verdict.verdict == "retry" and "timeout" in verdict.reasons
    assert backend.embeddings == 0
    assert verdict.embedding is None and verdict.scores["sameFace"] == 1.0


def test_a_long_capture_adds_a_guard_key_frame_of_the_same_person(each_engine: Engine) -> None:
    challenges = ("blink", "turn_left", "smile")
    state = _embedded(each_engine, _state(each_engine, live_clip("astronaut", challenges), mode="active",
                                          challenges=challenges, want_embedding=False))  # fmt: skip
    assert len(state.keys) >= 2
    assert state.keys[1].t - state.keys[0].t >= 3.0
    first, last = (np.asarray(k.embedding) for k in (state.keys[0], state.keys[-1]))
    assert each_engine.backend.similarity(first, last) >= each_engine.backend.match_threshold


@pytest.mark.parametrize("embedded_first", [True, False])
def test_a_lost_track_keeps_a_key_frame_at_once_and_the_swap_fails(each_engine: Engine, embedded_first: bool) -> None:
    """The swap clip cuts to another person halfway: the tracker loses the face there, and that frame is kept."""
    jpegs = attack_clip("face_swap")
    state = _state(each_engine, jpegs, mode="passive", want_embedding=False)
    assert len(state.keys) >= 2
    assert len(each_engine.key_frames_pending(state)) == len(state.keys)  # every key frame is compared
    assert abs(state.keys[1].t - (len(jpegs) // 2) / 15) < 0.1
    verdict = each_engine.decide(_embedded(each_engine, state) if embedded_first else state)
    assert verdict.verdict == "fail" and "faceChanged" in verdict.reasons


def test_a_key_frame_crop_without_a_face_gives_no_embedding(each_engine: Engine) -> None:
    from apps.face_engine.decode import encode_jpeg

    assert each_engine.embed_key_frame(encode_jpeg(np.full((120, 100, 3), 128, np.uint8))) is None
    plan = CapturePlan(mode="passive")
    assert each_engine.key_frames_pending(each_engine.new_capture(plan)) == ()
