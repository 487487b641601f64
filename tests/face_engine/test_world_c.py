"""World C, the third synthetic generator: independent of worlds A and B, and measured by dlib itself.

What the generator claims (docs/synthetic-video.md#world-c-relief-mapped-heads-in-an-office)
is checked on its frames with dlib's landmarks, not with its own numbers
(except the depth model's anthropometry, which is its own number).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from tests.face_engine.world_c import attacks
from tests.face_engine.world_c.performer import Performer, perform
from tests.face_engine.world_c.photos import eye_aspects, landmarks
from tests.face_engine.world_c.relief import NOSE_TIP_IOD, Pose, heights
from tests.face_engine.worlds import imported_names

HERE = Path(__file__).parent


def test_world_c_shares_no_code_with_world_a_nor_world_b() -> None:
    others = ("synthetic", "synth_faces", "synth_rig", "synth_writers", "synth_capture", "world_a", "worlds", "world_b")
    for path in (HERE / "world_c").glob("*.py"):
        for name in imported_names(path):
            assert not any(part in others for part in name.split(".")), f"world_c/{path.name} imports {name}"


def test_worlds_a_and_b_import_nothing_of_world_c() -> None:
    paths = [*HERE.glob("synth*.py"), HERE / "world_a.py", *(HERE / "world_b").glob("*.py")]
    for path in paths:
        for name in imported_names(path):
            assert "world_c" not in name.split("."), f"{path.name} imports {name}"


def test_the_nose_tip_stands_0_4_inter_ocular_distances_in_front_of_the_eyes() -> None:
    p = Performer("astronaut", seed=1)
    m = p.sitter.marks_uv
    eyes = np.stack([m[36:42].mean(0), m[42:48].mean(0)])
    h_eyes = heights(p.sitter, eyes[:, 0], eyes[:, 1]).mean()
    h = heights(p.sitter, m[:, 0], m[:, 1])
    assert float(h[30] - h_eyes) == pytest.approx(NOSE_TIP_IOD, abs=0.02)
    assert float(h_eyes - h[[3, 13]].mean()) > 0.6  # the jaw's angles far behind
    ear = heights(p.sitter, np.array([m[0, 0] - 0.05, m[16, 0] + 0.05]), m[[0, 16], 1])
    assert float(h_eyes - ear.mean()) > 0.8  # and the ears


def _ear(m: np.ndarray) -> float:
    return sum(eye_aspects(m)) / 2


def _marks(frame: np.ndarray) -> np.ndarray:
    found = landmarks(frame)
    assert len(found) == 1
    return found[0]


def test_turns_nods_blinks_and_the_rest_pose_are_what_dlib_sees() -> None:
    p = Performer("astronaut", seed=4)
    p.rest = Pose()
    s = p.sitter

    def shot(pose: Pose, **expr: float) -> np.ndarray:
        return _marks(p.camera.shoot(p.compose(pose, expr), 0))

    rest, left, right, down = shot(Pose()), shot(Pose(yaw=25)), shot(Pose(yaw=-25)), shot(Pose(pitch=18))

    def nose(m: np.ndarray) -> float:  # the nose tip off the eye midpoint, in inter-ocular distances
        mid = (m[36:42].mean(0) + m[42:48].mean(0)) / 2
        return float((m[30, 0] - mid[0]) / s.iod)

    # The user's own left: in the raw frame the nose moves toward the image's right.
    assert nose(left) - nose(rest) > 0.1
    assert nose(right) - nose(rest) < -0.1

    def nose_height(m: np.ndarray) -> float:  # the nose tip between the eye line (0) and the chin (1)
        eyes = m[36:48, 1].mean()
        return float((m[30, 1] - eyes) / (m[8, 1] - eyes))

    assert nose_height(down) - nose_height(rest) > 0.04  # head down: the tip drops toward the chin
    assert abs(nose(down) - nose(rest)) < 0.05
    # The rest pose gives the photo back where the head is opaque.
    (x0, y0, x1, y1), tx, ty, found, _ = p.relief.march(Pose())
    ys, xs = np.mgrid[y0:y1, x0:x1]
    solid = found & (p.relief.alpha[y0:y1, x0:x1] > 0.99)
    assert float(np.abs(tx - xs)[solid].mean()) < 0.05 and float(np.abs(ty - ys)[solid].mean()) < 0.05
    assert float(np.abs(rest - s.marks).mean()) < 2.0
    shut = shot(Pose(), blink=1.0)
    assert _ear(shut) < 0.6 * _ear(rest)


def _take(frames: object, n: int) -> list[np.ndarray]:
    return list(itertools.islice(frames, n))  # type: ignore[call-overload]


def test_the_same_seed_gives_the_same_frames() -> None:
    a, end = perform("t2", ("smile",), seed=7)
    b, _ = perform("t2", ("smile",), seed=7)
    assert end > 2.0
    fa, fb = _take(a.frames(end), 3), _take(b.frames(end), 3)
    assert all(np.array_equal(x, y) for x, y in zip(fa, fb, strict=True))
    c, _ = perform("t2", ("smile",), seed=8)
    assert not np.array_equal(_take(c.frames(end), 1)[0], fa[0])


@pytest.mark.parametrize("kind", attacks.ATTACKS)
def test_every_attack_renders_640x480_frames(kind: str) -> None:
    if kind == "frozen":
        frames = attacks.frozen_attack("t0", ("blink",), seed=2)
    elif kind == "face_swap":
        frames = attacks.face_swap_attack("t0", ("blink", "nod"), seed=2)
    else:
        frames = attacks.picture_attack(kind, "t0", ("turn_left",), seed=2)
    got = _take(frames, 2)
    assert len(got) == 2
    assert all(f.shape == (480, 640, 3) and f.dtype == np.uint8 for f in got)


def test_world_d_casts_the_faces_its_rule_picks_from_photos_no_other_world_uses() -> None:
    from tests.face_engine.world_c.photos import NARROW_EYED_D, PEOPLE, PEOPLE_D, cast_d, cast_of, sitter
    from tests.face_engine.worlds import specs

    # Picked from the photos alone (eye distance, how turned, eyes open), not from anything the engine said.
    assert cast_d() == PEOPLE_D
    assert cast_d(narrow_eyed=True) == NARROW_EYED_D  # every rule but the eyes'
    assert not set(PEOPLE_D + NARROW_EYED_D) & set(PEOPLE)
    assert cast_of("s3_0") == cast_of("s2_0") == PEOPLE_D and cast_of("t3") == PEOPLE  # a swap's second person
    world_d = specs("d", n_people=7, lives=9, attacks=24, seed=0)
    assert {s.person for s in world_d} == set(PEOPLE_D)
    assert (sum(s.kind == "live" for s in world_d), sum(s.kind != "live" for s in world_d)) == (63, 168)
    assert all(s.name.startswith("d_") for s in world_d)
    # The narrow-eyed two come after, leaving the seven's clips as they were.
    assert specs("d", n_people=9, lives=9, attacks=24, seed=0)[: len(world_d)] == world_d
    # Placed as world C places its own sitters: eyes 84 px apart, level, at the canvas's eye point.
    placed = sitter("s5_2")
    assert placed.iod == 84.0 and abs(placed.angle) < 0.02


def test_a_smaller_source_photo_places_the_face_alike_with_less_detail(monkeypatch: pytest.MonkeyPatch) -> None:
    import cv2

    from tests.face_engine.world_c.photos import sitter

    def eye_detail(s: object) -> float:  # the Laplacian's spread over both eyes: fine detail
        m = s.marks  # type: ignore[attr-defined]
        x0, y0 = (m[36:48].min(0) - 8).astype(int)
        x1, y1 = (m[36:48].max(0) + 8).astype(int)
        grey = cv2.cvtColor(s.image[y0:y1, x0:x1].astype(np.uint8), cv2.COLOR_RGB2GRAY)  # type: ignore[attr-defined]
        return float(cv2.Laplacian(grey, cv2.CV_32F).var())

    sitter.cache_clear()
    sharp = sitter("s6_0")
    monkeypatch.setenv("WORLD_C_SOURCE_EYES", "46")
    sitter.cache_clear()
    try:
        small = sitter("s6_0")
    finally:
        sitter.cache_clear()
    assert small.iod == sharp.iod and np.abs(small.marks - sharp.marks).max() < 1.5
    assert eye_detail(small) < 0.6 * eye_detail(sharp)


def test_lids_lowered_at_rest_narrow_the_eyes_and_a_blink_still_shuts_them(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Performer("astronaut", seed=4).pose(0.0)[1]["blink"] == 0.0  # open eyes unless asked
    monkeypatch.setenv("WORLD_C_REST_LID", "0.5")
    p = Performer("astronaut", seed=4)
    p.rest, p.sway_scale = Pose(), 0.0
    pose, expr = p.pose(0.0)
    assert expr["blink"] == 0.5

    def ear(blink: float) -> float:
        return _ear(_marks(p.camera.shoot(p.compose(pose, {"blink": blink}), 0)))

    opened, narrow = ear(0.0), ear(expr["blink"])
    assert narrow < 0.8 * opened
    blink = p.add("blink", 1.0)
    assert p.pose(blink.start + blink.rise + blink.hold / 2)[1]["blink"] == 1.0  # from lowered lids to shut
    assert ear(1.0) < 0.6 * narrow
