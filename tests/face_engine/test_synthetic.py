"""The synthetic video generator does what the acceptance tests assume it does.

Landmarks are measured by dlib's own detector and 68-point predictor on the
generated frames (not taken from the generator), so a warp that looked right
to the generator but not to a face model would fail here.
"""

from __future__ import annotations

import itertools
import re
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.face_engine import synth_faces, synthetic

ALL_ACTIONS = ("blink", "turn_left", "turn_right", "nod", "smile", "mouth_open")


def _ear(lm: np.ndarray) -> float:
    """Eye aspect ratio, both eyes averaged."""

    def one(e: np.ndarray) -> float:
        return float((np.linalg.norm(e[1] - e[5]) + np.linalg.norm(e[2] - e[4])) / (2 * np.linalg.norm(e[0] - e[3])))

    return (one(lm[36:42]) + one(lm[42:48])) / 2


def _measures(frame: np.ndarray) -> dict[str, float]:
    lm = synthetic.landmarks_of(frame)
    assert lm is not None, "dlib finds no face in a generated frame"
    face_w = float(lm[16, 0] - lm[0, 0])
    iod = float(np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0)))
    return {
        "ear": _ear(lm),
        # Nose tip against the middle of the jaw, in face widths: + is toward the image's right.
        "nose_x": float(lm[30, 0] - (lm[0, 0] + lm[16, 0]) / 2) / face_w,
        # Nose tip below the eye line, in face widths.
        "nose_y": float(lm[30, 1] - lm[36:48, 1].mean()) / face_w,
        "mouth_w": float(lm[54, 0] - lm[48, 0]) / iod,
        "mouth_gap": float(lm[66, 1] - lm[62, 1]) / face_w,
    }


@pytest.fixture(scope="module")
def performance() -> dict[str, dict[str, float]]:
    """dlib's measures at the neutral start, at the peak of each action and at the end of a performance."""
    fps = 15
    actor = synthetic.FaceActor("astronaut", fps=fps, seed=3)
    actor.skip(7)
    out = {"neutral": _measures(actor.frame())}
    for action in ALL_ACTIONS:
        length = round(synthetic.action_seconds(action) * fps)
        actor.perform(action)
        actor.skip(length // 2)
        out[action] = _measures(actor.frame())
        while actor.busy:
            actor.skip(1)
        actor.skip(8)
    out["end"] = _measures(actor.frame())
    return out


def test_turn_left_moves_the_nose_toward_the_image_right(performance: dict[str, dict[str, float]]) -> None:
    assert performance["turn_left"]["nose_x"] - performance["neutral"]["nose_x"] > 0.2


def test_turn_right_moves_the_nose_toward_the_image_left(performance: dict[str, dict[str, float]]) -> None:
    assert performance["turn_right"]["nose_x"] - performance["neutral"]["nose_x"] < -0.2


@pytest.mark.parametrize("face", ["t1_0", "t1_5"])
def test_turns_go_the_users_own_way_for_other_people_too(face: str) -> None:
    actor = synthetic.FaceActor(face, seed=4)
    actor.skip(5)
    neutral = _measures(actor.frame())["nose_x"]
    for action, sign in (("turn_left", 1), ("turn_right", -1)):
        actor.perform(action)
        actor.skip(round(synthetic.action_seconds(action) * 15) // 2)
        assert sign * (_measures(actor.frame())["nose_x"] - neutral) > 0.2, action
        while actor.busy:
            actor.skip(1)


def test_a_nod_moves_the_nose_down_without_turning(performance: dict[str, dict[str, float]]) -> None:
    assert performance["nod"]["nose_y"] - performance["neutral"]["nose_y"] > 0.05
    assert abs(performance["nod"]["nose_x"] - performance["neutral"]["nose_x"]) < 0.05


def test_a_blink_closes_the_eyes_and_they_open_again(performance: dict[str, dict[str, float]]) -> None:
    assert performance["blink"]["ear"] < 0.6 * performance["neutral"]["ear"]
    assert performance["end"]["ear"] > 0.85 * performance["neutral"]["ear"]


def test_a_smile_widens_the_mouth(performance: dict[str, dict[str, float]]) -> None:
    assert performance["smile"]["mouth_w"] > 1.12 * performance["neutral"]["mouth_w"]


def test_mouth_open_parts_the_lips(performance: dict[str, dict[str, float]]) -> None:
    assert performance["mouth_open"]["mouth_gap"] - performance["neutral"]["mouth_gap"] > 0.1


def test_the_eyes_stay_open_while_turning_and_smiling(performance: dict[str, dict[str, float]]) -> None:
    for action in ("turn_left", "turn_right", "smile", "mouth_open"):
        assert performance[action]["ear"] > 0.8 * performance["neutral"]["ear"], action


def test_no_two_consecutive_live_frames_are_identical() -> None:
    frames = synthetic.passive_sequence("t1_2", 1.0, seed=5)
    for a, b in itertools.pairwise(frames):
        assert np.abs(a.astype(np.int16) - b).mean() > 0.5


@pytest.mark.slow
def test_every_face_appears_exactly_once_in_its_portrait() -> None:
    import dlib

    detector = dlib.get_frontal_face_detector()
    for name in synthetic.FACES:
        image = synthetic.portrait(name).image
        assert image.shape == (480, 640, 3)
        assert len(detector(image, 0)) == 1, name


def _rigid_landmarks(frames: list[np.ndarray]) -> list[np.ndarray]:
    # Eye corners, nose bridge and base, mouth corners: well localised on a photo and a face alike.
    idx = [27, 30, 31, 33, 35, 36, 39, 42, 45, 48, 54]
    out = []
    for f in frames:
        lm = synthetic.landmarks_of(f)
        assert lm is not None
        out.append(lm[idx].astype(np.float64))
    return out


def _homography_residual(ref: np.ndarray, cur: np.ndarray) -> float:
    h, _ = cv2.findHomography(ref, cur, 0)
    fitted = cv2.perspectiveTransform(ref.reshape(-1, 1, 2), h).reshape(-1, 2)
    return float(np.sqrt(((fitted - cur) ** 2).sum(1).mean()))


@pytest.mark.slow
def test_a_head_turn_is_not_a_plane_homography_but_a_waved_print_is() -> None:
    live = synthetic.live_sequence("astronaut", ("turn_left",), neutral_s=0.2, tail_s=0.0)
    printed = synthetic.attack_sequence("print_moved", "astronaut", seconds=2.2)
    live_pts = _rigid_landmarks([live[0], live[len(live) // 2 + 2]])
    print_pts = _rigid_landmarks(printed[::3])
    iod = float(np.linalg.norm(live_pts[0][5] - live_pts[0][8]))
    live_residual = _homography_residual(live_pts[0], live_pts[1]) / iod
    print_residual = max(_homography_residual(print_pts[0], p) for p in print_pts[1:]) / iod
    assert live_residual > 2 * print_residual
    assert live_residual > 0.02


@pytest.mark.slow
def test_a_waved_print_really_moves_out_of_plane() -> None:
    printed = synthetic.attack_sequence("print_moved", "astronaut", seconds=2.2)
    pts = _rigid_landmarks(printed[::3])
    iod = float(np.linalg.norm(pts[0][5] - pts[0][8]))
    # The best similarity transform leaves a clear residual: the picture was tilted, not just shifted.
    worst = 0.0
    for p in pts[1:]:
        m, _ = cv2.estimateAffinePartial2D(pts[0], p)
        fitted = pts[0] @ m[:, :2].T + m[:, 2]
        worst = max(worst, float(np.sqrt(((fitted - p) ** 2).sum(1).mean())) / iod)
    assert worst > 0.04


def test_a_frozen_sequence_differs_only_by_jpeg_noise() -> None:
    frames = synthetic.attack_sequence("frozen", "astronaut", seconds=1.0)
    diffs = [np.abs(a.astype(np.int16) - b).mean() for a, b in itertools.pairwise(frames)]
    assert max(diffs) < 1.5
    assert any(d > 0 for d in diffs)


@pytest.mark.slow
def test_face_swap_changes_the_person_halfway() -> None:
    from importlib.resources import files

    import dlib

    model = files("face_recognition_models") / "models" / "dlib_face_recognition_resnet_model_v1.dat"
    encoder = dlib.face_recognition_model_v1(str(model))
    _, predictor = synth_faces._detector_and_predictor()
    detector = dlib.get_frontal_face_detector()

    def descriptor(frame: np.ndarray) -> np.ndarray:
        box = detector(frame, 0)[0]
        return np.array(encoder.compute_face_descriptor(frame, predictor(frame, box)))

    frames = synthetic.attack_sequence("face_swap", "astronaut", seconds=1.4, other="t1_2")
    first, early, late = descriptor(frames[0]), descriptor(frames[8]), descriptor(frames[-1])
    assert np.linalg.norm(first - early) < 0.45  # same person (dlib's own threshold is 0.6)
    assert np.linalg.norm(first - late) > 0.6  # somebody else


@pytest.mark.slow
def test_print_and_screen_attacks_show_one_face_in_front_of_a_background() -> None:
    import dlib

    detector = dlib.get_frontal_face_detector()
    for kind in ("print_moved", "screen_replay"):
        frames = synthetic.attack_sequence(kind, "astronaut", seconds=1.0)
        assert frames[0].shape == (480, 640, 3)
        assert len(detector(frames[7], 0)) == 1, kind


def test_the_y4m_file_is_what_chromiums_fake_camera_reads(tmp_path: Path) -> None:
    frames = synthetic.live_sequence("astronaut", ("blink",), neutral_s=0.3, tail_s=0.2)
    path = synthetic.write_y4m(frames, tmp_path / "live.y4m", fps=15)
    data = path.read_bytes()
    header, _, rest = data.partition(b"\n")
    assert re.fullmatch(rb"YUV4MPEG2 W640 H480 F15:1 Ip A1:1 C420jpeg", header)
    frame_bytes = 640 * 480 * 3 // 2
    assert len(rest) == len(frames) * (len(b"FRAME\n") + frame_bytes)
    for i in range(len(frames)):
        assert rest[i * (6 + frame_bytes) : i * (6 + frame_bytes) + 6] == b"FRAME\n"
    decoded, fps = synthetic.read_y4m(path)
    assert fps == 15 and len(decoded) == len(frames)
    # 4:2:0 keeps luma exactly and halves chroma: the picture survives.
    psnr = cv2.PSNR(cv2.cvtColor(decoded[5], cv2.COLOR_RGB2GRAY), cv2.cvtColor(frames[5], cv2.COLOR_RGB2GRAY))
    assert psnr > 35


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".mp4", ".webm"])
def test_compressed_videos_decode_to_every_frame(tmp_path: Path, suffix: str) -> None:
    import av

    frames = synthetic.live_sequence("astronaut", (), neutral_s=1.0, tail_s=0.0)
    path = synthetic.write_video(frames, tmp_path / f"clip{suffix}", fps=15)
    with av.open(str(path)) as container:
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
        rate = container.streams.video[0].average_rate
    assert len(decoded) == len(frames)
    assert decoded[0].shape == (480, 640, 3)
    assert float(rate) == pytest.approx(15, rel=0.01)
    assert cv2.PSNR(decoded[7], frames[7]) > 30


def test_the_jpeg_folder_is_in_frame_order_by_name(tmp_path: Path) -> None:
    frames = synthetic.live_sequence("astronaut", ("turn_left",), neutral_s=0.2, tail_s=0.0)
    paths = synthetic.write_jpeg_folder(frames, tmp_path / "frames")
    names = sorted(p.name for p in (tmp_path / "frames").iterdir())
    assert names == [p.name for p in paths] and len(names) == len(frames) >= 12
    peak = len(frames) // 2
    again = synthetic.decode_jpeg((tmp_path / "frames" / names[peak]).read_bytes())
    assert cv2.PSNR(again, frames[peak]) > 30


def test_the_command_line_writes_a_playable_video(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "attack.y4m"
    assert synthetic.main(["attack", "--kind", "frozen", "--seconds", "1", "-o", str(out)]) == 0
    frames, fps = synthetic.read_y4m(out)
    assert len(frames) == 15 and fps == 15
    assert "15 frames" in capsys.readouterr().out


def test_unknown_actions_faces_and_attacks_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown action"):
        synthetic.live_sequence("astronaut", ("wink",))
    with pytest.raises(ValueError, match="unknown face"):
        synthetic.portrait("nobody")
    with pytest.raises(ValueError, match="unknown attack"):
        synthetic.attack_sequence("mask")
    with pytest.raises(ValueError, match="two different people"):
        synthetic.attack_sequence("face_swap", "t1_3", other="t1_3")


def test_a_three_second_sequence_takes_well_under_three_seconds_of_cpu() -> None:
    synthetic.portrait("astronaut")  # the portrait and its landmarks are cached once per process
    start = time.process_time()
    frames = synthetic.live_sequence("astronaut", ("blink", "turn_left"), neutral_s=0.5, gap_s=0.3, tail_s=0.0)
    spent = time.process_time() - start
    assert len(frames) >= 30
    assert spent < 3.0 * len(frames) / 45
