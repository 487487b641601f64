"""The screen check (``screen.py``): a display's moire in the face is a presentation attack, on real frames."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from apps.face_engine.pipeline import Engine
from apps.face_engine.screen import SCREEN_PEAK, is_screen, screen_peak
from tests.face_engine import synthetic, world_a
from tests.face_engine.synth_capture import attack_clip, passive_clip, run_capture
from tests.face_engine.worlds import full_set_spec, full_set_verdict


def _peaks(engine: Engine, jpegs: tuple[bytes, ...], quality: int | None = None, right: bool = False) -> list[float]:
    """Every fifth frame's peak at the detected face; ``right``: the scene moved right by a quarter of the frame
    first (whole pixels: a display's lattice moves with the picture, unchanged), its face then right of centre."""
    found = []
    for jpeg in jpegs[::5]:
        gray = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
        if quality is not None:  # the same frame, compressed hard: its 8x8 blocks are periodic too
            _ok, data = cv2.imencode(".jpg", gray, [cv2.IMWRITE_JPEG_QUALITY, quality])
            gray = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)
        if right:
            shift = gray.shape[1] // 4
            gray = np.ascontiguousarray(np.concatenate([np.repeat(gray[:, :1], shift, axis=1), gray[:, :-shift]], 1))
        boxes = engine.backend.detect(gray)
        if right:
            assert boxes, "the moved face is still found"
            left, _, right_edge, _ = boxes[0].box
            assert (left + right_edge) / 2 > gray.shape[1] / 2, "the face is right of the frame's centre"
        if boxes and (peak := screen_peak(gray, boxes[0].box)) is not None:
            found.append(peak)
    return found


@pytest.mark.parametrize("quality", [None, 30])
def test_a_live_face_shows_no_display_lattice_even_compressed_hard(mediapipe_engine: Engine, quality) -> None:
    peaks = _peaks(mediapipe_engine, passive_clip("t1_2"), quality)
    assert len(peaks) >= 5 and max(peaks) < SCREEN_PEAK


def test_a_phone_screen_shows_its_lattice(mediapipe_engine: Engine) -> None:
    peaks = _peaks(mediapipe_engine, attack_clip("screen_replay", "t1_2"))
    assert len(peaks) >= 5 and float(np.median(peaks)) >= SCREEN_PEAK


def test_a_screen_right_of_the_frames_centre_is_read_at_the_faces_centre(mediapipe_engine: Engine) -> None:
    """The same phone screen with the whole scene moved right by a quarter of the frame: the patch is the
    face box's centre (the box is left, top, right, bottom), so it is still read and still shows the lattice.
    Read as (x, y, width, height), the patch fell past the face's right edge, out of the frame here: no
    sample, and a replay shown right of centre went without the screen check."""
    peaks = _peaks(mediapipe_engine, attack_clip("screen_replay", "t1_2"), right=True)
    assert len(peaks) >= 5 and float(np.median(peaks)) >= SCREEN_PEAK, peaks


def test_the_patch_is_the_face_boxs_centre() -> None:
    """A lattice only around the box's centre is found; one only where (x, y, width, height) would look is not."""
    yy, xx = np.mgrid[:96, :96]
    lattice = (128 + 60 * np.sin(2 * np.pi * 0.31 * xx) * np.sin(2 * np.pi * 0.27 * yy)).astype(np.uint8)
    box = (300, 100, 400, 200)  # centre (350, 150); read as x, y, width, height: (500, 200)
    at_centre = np.full((480, 640), 128, np.uint8)
    at_centre[150 - 48 : 150 + 48, 350 - 48 : 350 + 48] = lattice
    elsewhere = np.full((480, 640), 128, np.uint8)
    elsewhere[200 - 48 : 200 + 48, 500 - 48 : 500 + 48] = lattice
    assert (screen_peak(at_centre, box) or 0.0) >= SCREEN_PEAK
    assert (screen_peak(elsewhere, box) or 0.0) < SCREEN_PEAK


def test_a_patch_outside_the_frame_is_no_evidence() -> None:
    assert screen_peak(np.zeros((80, 80), np.uint8), (0, 0, 80, 80)) is None


def test_a_replayed_live_session_that_blinks_and_nods_fails_as_a_presentation_attack(each_engine: Engine) -> None:
    """The recording has a real head's blinks and parallax; only the display gives it away."""
    frames = world_a.replay_sequence("astronaut", recorded=("blink", "nod"), seconds=6.0, seed=4)
    jpegs = tuple(synthetic.encode_jpeg(f, 88) for f in frames)
    verdict = run_capture(each_engine, jpegs, mode="passive").verdict
    assert verdict.verdict == "fail", (verdict.reasons, dict(verdict.scores))
    assert "presentationAttack" in verdict.reasons and verdict.scores["noScreen"] == 0.0


@pytest.mark.parametrize(
    ("samples", "hits", "screen"),
    [(15, 4, True), (15, 3, False), (9, 3, True), (5, 2, True), (5, 1, False), (4, 4, False), (30, 0, False)],
)
def test_a_quarter_of_the_samples_with_the_lattice_make_a_screen(samples: int, hits: int, screen: bool) -> None:
    assert is_screen(samples, hits) is screen


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    [
        "b_replay_p3_15",  # a recorded live session that blinks, its lattice on 6 of 15 samples: it passed
        "b_screen_p4_10",  # a photo on a phone held still, its lattice on 3 of 9 samples: it was a retry
    ],
)
def test_a_faint_displays_lattice_on_a_quarter_of_the_samples_fails_a_passive_hold(
    mediapipe_engine: Engine, name: str
) -> None:
    """World B's passive screens whose display shows its lattice on some samples only (the verdicts in the
    comments are those of half the samples asked for)."""
    assert full_set_spec(name).challenges == ()
    verdict = full_set_verdict(mediapipe_engine, name)
    assert verdict.verdict == "fail", (verdict.reasons, dict(verdict.scores))
    assert "presentationAttack" in verdict.reasons and verdict.scores["noScreen"] == 0.0
