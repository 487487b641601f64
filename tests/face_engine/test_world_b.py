"""World B, the second synthetic generator: independent of world A, and its heads measured by dlib itself.

What the generator claims (docs/synthetic-video.md#world-b-3-d-heads-in-a-room)
is checked on its frames with dlib's landmarks, not with its own numbers.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.face_engine.world_b import attacks
from tests.face_engine.world_b.actor import LivePerson
from tests.face_engine.world_b.faces import PEOPLE, person
from tests.face_engine.world_b.head import NOSE_TIP_IOD, Head, HeadPose
from tests.face_engine.worlds import imported_names

WORLD_B = Path(__file__).parent / "world_b"


def test_world_b_shares_no_code_with_world_a() -> None:
    world_a = ("synthetic", "synth_faces", "synth_rig", "synth_writers", "synth_capture", "world_a", "worlds")
    for path in WORLD_B.glob("*.py"):
        for name in imported_names(path):
            assert not any(part in world_a for part in name.split(".")), f"{path.name} imports {name}"


def test_the_nose_tip_stands_0_4_inter_ocular_distances_in_front_of_the_eyes() -> None:
    head = Head(person("astronaut"))
    marks = head.person.marks
    tip = np.argmin(np.linalg.norm(head.tex - marks[30], axis=1))
    eyes = [np.argmin(np.linalg.norm(head.tex - marks[i:j].mean(0), axis=1)) for i, j in ((36, 42), (42, 48))]
    z = head.rest[: len(head.u), 2]  # distance from the camera, in IOD (the mesh's own vertices)
    assert float(np.mean(z[eyes]) - z[tip]) == pytest.approx(NOSE_TIP_IOD, abs=0.06)
    ears = np.abs(head.u) > 1.1
    assert float(np.median(z[ears & (np.abs(head.v) < 0.5)]) - np.mean(z[eyes])) > 0.7  # ears far behind
    jaw = np.argmin(np.linalg.norm(head.tex - marks[4], axis=1))
    assert float(z[jaw] - np.mean(z[eyes])) > 0.3  # and the jaw's angle


def _landmarks(frame: np.ndarray, upsample: int = 0) -> np.ndarray:
    from tests.face_engine.world_b.faces import _dlib

    detector, predictor = _dlib()
    found = detector(frame, upsample)  # type: ignore[operator]
    assert len(found) == 1
    shape = predictor(frame, found[0])  # type: ignore[operator]
    return np.array([(p.x, p.y) for p in shape.parts()], np.float64)


_RIGID = [0, 2, 14, 16, 17, 21, 22, 26, 27, 30, 31, 33, 35, 36, 39, 42, 45]


def _homography_residual(a: np.ndarray, b: np.ndarray) -> float:
    """RMS residual (in inter-ocular distances) of the best homography taking ``a``'s rigid points to ``b``'s."""
    src, dst = a[_RIGID].astype(np.float32), b[_RIGID].astype(np.float32)
    hm, _ = cv2.findHomography(src, dst, 0)
    moved = cv2.perspectiveTransform(src[None], hm)[0]
    iod = np.linalg.norm(b[36:42].mean(0) - b[42:48].mean(0))
    return float(np.sqrt(np.mean(np.sum((moved - dst) ** 2, 1))) / iod)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["astronaut", "p2", "p5"])
def test_turns_nods_and_blinks_are_what_dlib_sees(name: str) -> None:
    live = LivePerson(name, seed=3, rest_yaw=0.0)
    live.rest = HeadPose()
    live.sway = 0.0

    def shot(**pose: float) -> np.ndarray:
        img, alpha = live.head.render(HeadPose(**pose))
        scene = img * alpha[..., None] + live.backdrop * (1 - alpha[..., None])
        return _landmarks(live.camera.shoot(scene, 0))

    rest, left, right, down = shot(), shot(yaw=25), shot(yaw=-25), shot(pitch=18)
    img, _ = live.head.render(HeadPose())
    shut_img, _ = live.head.render(HeadPose(blink=1.0))
    width = np.linalg.norm(rest[16] - rest[0])

    def nose_offset(m: np.ndarray) -> float:
        return float((m[30, 0] - (m[0, 0] + m[16, 0]) / 2) / width)

    # The user's own left: in the raw frame the nose moves toward the image's right.
    assert nose_offset(left) - nose_offset(rest) > 0.08
    assert nose_offset(right) - nose_offset(rest) < -0.08

    def nose_height(m: np.ndarray) -> float:  # the nose tip between the eye line (0) and the chin (1)
        eyes = m[36:48, 1].mean()
        return float((m[30, 1] - eyes) / (m[8, 1] - eyes))

    assert nose_height(down) - nose_height(rest) > 0.05  # head down: the nose tip drops toward the chin
    assert abs(nose_offset(down) - nose_offset(rest)) < 0.05
    # A turning head is no plane: its rigid landmarks leave a homography residual.
    assert _homography_residual(rest, left) > 0.03
    # Shut lids hide the dark iris: inside the open eye's outline the image turns to skin (and one lash line).
    for eye in (rest[36:42], rest[42:48]):
        mask = np.zeros(img.shape[:2], np.uint8)
        cv2.fillConvexPoly(mask, np.round(eye).astype(np.int32), 1)
        inside = mask.astype(bool)
        grey, shut_grey = img.mean(2)[inside], shut_img.mean(2)[inside]
        assert np.mean(shut_grey < 70) < 0.5 * max(np.mean(grey < 70), 0.02)


@pytest.mark.slow
def test_a_print_moves_as_one_plane_and_a_frozen_clip_only_by_jpeg_noise() -> None:
    frames = list(attacks.picture_attack("print", "astronaut", ("turn_left",), seed=2))
    marks = [_landmarks(f) for f in frames[::3]]
    residuals = [_homography_residual(marks[0], m) for m in marks[1:]]
    assert max(residuals) < 0.03
    tilt = [np.linalg.norm(m[16] - m[0]) / np.linalg.norm(marks[0][16] - marks[0][0]) for m in marks]
    assert min(tilt) < 0.93  # it was really tilted out of plane
    frozen = list(attacks.frozen_attack("p1", seed=1, seconds=1.0))
    diffs = [np.abs(a.astype(int) - frozen[0].astype(int)).mean() for a in frozen[1:]]
    assert 0 < max(diffs) < 2.0


@pytest.mark.slow
def test_every_person_is_one_detectable_face_in_their_room() -> None:
    for i, name in enumerate(PEOPLE):
        live = LivePerson(name, seed=i, rest_yaw=0.0)
        frame = live.camera.shoot(live.scene(0.0), 0)
        assert _landmarks(frame, upsample=1).shape == (68, 2)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["astronaut", "p2"])
def test_a_lid_that_slides_down_hides_the_iris_as_it_closes(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The tuning variant WORLD_B_BLINK=slide: the skin above the lid is carried down over the eye, nothing painted.
    monkeypatch.setenv("WORLD_B_BLINK", "slide")
    live = LivePerson(name, seed=3, rest_yaw=0.0)
    dark = []
    for amount in (0.0, 0.5, 1.0):
        img, _ = live.head.render(HeadPose(blink=amount))
        grey = img.mean(2)
        inside = np.zeros(grey.shape, np.uint8)
        for eye in (live.head.person.marks[36:42], live.head.person.marks[42:48]):
            cv2.fillConvexPoly(inside, np.round(eye).astype(np.int32), 1)
        dark.append(float(np.mean(grey[inside.astype(bool)] < 70)))
    # Less of the dark iris inside the open eye's outline as the lid comes down (a narrow eye's lash line comes
    # down into the outline with it, so a shut narrow eye is not free of dark pixels).
    assert dark[1] < dark[0] and dark[2] < 0.8 * dark[0], dark


@pytest.mark.parametrize("blink", ["paint", "slide"])
def test_lids_lowered_at_rest_cover_part_of_the_iris_and_a_blink_still_shuts_them(
    blink: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORLD_B_BLINK", blink)
    assert LivePerson("astronaut", seed=3, rest_yaw=0.0).pose(0.0).blink == 0.0  # open eyes unless asked
    monkeypatch.setenv("WORLD_B_REST_LID", "0.5")
    live = LivePerson("astronaut", seed=3, rest_yaw=0.0)
    live.sway = 0.0
    assert live.pose(0.0).blink == 0.5
    action = live.add("blink", 1.0)
    assert live.pose((action.start + action.end) / 2).blink == 1.0  # from lowered lids to shut

    def dark_share(amount: float) -> float:  # the dark iris's share of the open eyes' outline
        img, _ = live.head.render(HeadPose(blink=amount))
        grey = img.mean(2)
        inside = np.zeros(grey.shape, np.uint8)
        for eye in (live.head.person.marks[36:42], live.head.person.marks[42:48]):
            cv2.fillConvexPoly(inside, np.round(eye).astype(np.int32), 1)
        return float(np.mean(grey[inside.astype(bool)] < 70))

    opened, narrow, shut = dark_share(0.0), dark_share(0.5), dark_share(1.0)
    assert shut < narrow < 0.9 * opened, (opened, narrow, shut)
