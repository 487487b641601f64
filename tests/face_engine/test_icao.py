"""ICAO photo: 480x600 JPEG, eyes level at the ICAO eye line, centred, with a pass/fail compliance report."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from apps.face_engine.icao import EYE_LINE_FROM_TOP, HEIGHT, WIDTH, icao_photo
from apps.face_engine.measures import LEFT_EYE, RIGHT_EYE, face_measures
from apps.face_engine.tracking import face_points
from apps.face_engine.types import IcaoPhoto
from tests.face_engine import synthetic

CHECKS = {
    "poseWithinLimits",
    "eyesOpen",
    "neutralExpression",
    "sharpness",
    "exposure",
    "backgroundUniformity",
    "faceCentred",
}


@pytest.fixture(scope="module")
def portrait_bgr() -> np.ndarray:
    return cv2.cvtColor(synthetic.portrait("t1_0").image, cv2.COLOR_RGB2BGR)


def _face(engine, bgr: np.ndarray):
    """The face as the engine reads it: 68 landmarks and the measures (the mesh's on a mesh backend)."""
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    return face_points(engine.backend, gray, engine._detect(gray)[0])


def _photo(engine, bgr: np.ndarray) -> IcaoPhoto:
    face = _face(engine, bgr)
    return icao_photo(bgr, face.landmarks, face.measures(), open_eye_ratio=engine.backend.open_eye_ratio)


def _eyes(engine, jpeg: bytes) -> tuple[np.ndarray, np.ndarray]:
    out = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert out.shape == (HEIGHT, WIDTH)
    pts = engine.backend.landmarks(out, engine.backend.detect(out)[0].box)
    return pts[RIGHT_EYE].mean(axis=0), pts[LEFT_EYE].mean(axis=0)


def test_the_photo_is_a_480x600_jpeg_with_every_check_reported(each_engine, portrait_bgr) -> None:
    photo = _photo(each_engine, portrait_bgr)
    assert photo.jpeg[:3] == b"\xff\xd8\xff"
    assert set(photo.checks) == CHECKS
    assert all(isinstance(v, bool) for v in photo.checks.values())


@pytest.mark.parametrize("tilt", [0, 14, -14])
def test_the_eyes_come_out_level_on_the_icao_eye_line_and_centred(each_engine, portrait_bgr, tilt: int) -> None:
    h, w = portrait_bgr.shape[:2]
    tilted = cv2.warpAffine(portrait_bgr, cv2.getRotationMatrix2D((w / 2, h / 2), tilt, 1.0), (w, h))
    right, left = _eyes(each_engine, _photo(each_engine, tilted).jpeg)
    assert abs(math.degrees(math.atan2(left[1] - right[1], left[0] - right[0]))) < 2.0
    assert abs((right[1] + left[1]) / 2 - EYE_LINE_FROM_TOP * HEIGHT) < 0.03 * HEIGHT
    assert abs((right[0] + left[0]) / 2 - WIDTH / 2) < 0.03 * WIDTH


def test_a_turned_head_fails_the_pose_check(each_engine) -> None:
    actor = synthetic.FaceActor("t1_0", fps=5, seed=2)
    actor.perform("turn_left")
    frames = [actor.frame() for _ in range(4)]  # the turn's hold
    photo = _photo(each_engine, cv2.cvtColor(frames[-1], cv2.COLOR_RGB2BGR))
    assert photo.checks["poseWithinLimits"] is False
    assert not photo.compliant


def test_blur_and_darkness_fail_sharpness_and_exposure(each_engine, portrait_bgr) -> None:
    assert _photo(each_engine, portrait_bgr).checks["sharpness"] is True
    assert _photo(each_engine, portrait_bgr).checks["exposure"] is True
    blurred = cv2.GaussianBlur(portrait_bgr, (0, 0), 3.5)
    dark = (portrait_bgr * 0.3).astype(np.uint8)
    assert _photo(each_engine, blurred).checks["sharpness"] is False
    assert _photo(each_engine, dark).checks["exposure"] is False


def test_the_background_check_reads_the_area_around_the_head(each_engine, portrait_bgr) -> None:
    gray = cv2.cvtColor(portrait_bgr, cv2.COLOR_BGR2GRAY)
    pts = each_engine.backend.landmarks(gray, each_engine._detect(gray)[0])
    (cx, cy), half_w = pts.mean(axis=0), (pts[:, 0].max() - pts[:, 0].min()) / 2
    head = np.zeros(gray.shape, np.uint8)
    cv2.ellipse(head, (int(cx), int(cy - 0.3 * half_w)), (int(1.1 * half_w), int(1.7 * half_w)), 0, 0, 360, 255, -1)
    outside = head == 0
    plain = portrait_bgr.copy()
    plain[outside] = (205, 200, 195)
    busy = plain.copy()
    busy[outside] = np.random.default_rng(0).integers(0, 255, (int(outside.sum()), 3))
    assert icao_photo(plain, pts, face_measures(pts)).checks["backgroundUniformity"] is True
    assert icao_photo(busy, pts, face_measures(pts)).checks["backgroundUniformity"] is False


def test_a_face_at_the_edge_of_the_frame_is_not_centred(each_engine, portrait_bgr) -> None:
    shifted = np.roll(portrait_bgr, -230, axis=1)
    shifted[:, -230:] = 0
    assert _photo(each_engine, shifted).checks["faceCentred"] is False


def test_the_head_is_three_quarters_of_the_photo_height(each_engine, portrait_bgr) -> None:
    out = cv2.imdecode(np.frombuffer(_photo(each_engine, portrait_bgr).jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    pts = each_engine.backend.landmarks(out, each_engine.backend.detect(out)[0].box)
    eyes = (pts[RIGHT_EYE].mean(axis=0) + pts[LEFT_EYE].mean(axis=0)) / 2
    head = 2 * float(np.hypot(*(pts[8] - eyes)))  # the crown sits about as far above the eyes as the chin below
    assert abs(head / HEIGHT - 0.75) < 0.04  # ICAO: chin to crown 70-80 % of the height


def _acting(engine, face: str, action: str, pick) -> np.ndarray:
    """The frame of ``action`` that ``pick`` (a function of the face's measures) rates highest."""
    actor = synthetic.FaceActor(face, fps=15, seed=1)
    actor.perform(action)
    frames = []
    while actor.busy:
        frames.append(cv2.cvtColor(actor.frame(), cv2.COLOR_RGB2BGR))

    return max(frames, key=lambda f: pick(_face(engine, f).measures()))


def test_closed_eyes_and_a_smile_fail_their_checks(each_engine, portrait_bgr) -> None:
    open_ = _photo(each_engine, portrait_bgr).checks
    assert open_["eyesOpen"] is True and open_["neutralExpression"] is True
    closed = _acting(each_engine, "t1_0", "blink", lambda m: -m.eye_open)
    assert _photo(each_engine, closed).checks["eyesOpen"] is False
    # A smile is judged against the person's own neutral face (the capture's baseline): across people the
    # mouth-width ratio overlaps (the astronaut's photo, already smiling, reads 1.04; t1_0's broad smile 1.02).
    smiling = _acting(each_engine, "t1_0", "smile", lambda m: m.smile)
    neutral = _acting(each_engine, "t1_0", "blink", lambda m: m.eye_open)
    face, base = _face(each_engine, smiling), _face(each_engine, neutral).measures()
    judged = icao_photo(
        smiling, face.landmarks, face.measures(), smile_baseline=base.smile, mouth_baseline=base.mouth_open
    )
    assert judged.checks["neutralExpression"] is False
    assert icao_photo(neutral, *_pts_and_measures(each_engine, neutral), smile_baseline=base.smile).checks[
        "neutralExpression"
    ]


def _pts_and_measures(engine, bgr: np.ndarray):
    face = _face(engine, bgr)
    return face.landmarks, face.measures()


@pytest.mark.slow
def test_a_capture_takes_its_photo_from_a_frontal_open_eyed_neutral_frame(each_engine) -> None:
    from tests.face_engine.synth_capture import live_clip, run_capture

    challenges = ("turn_left", "smile", "blink")
    verdict = run_capture(each_engine, live_clip("astronaut", challenges), mode="active", challenges=challenges).verdict
    assert verdict.verdict == "pass" and verdict.icao is not None
    checks = verdict.icao.checks
    assert checks["poseWithinLimits"] and checks["eyesOpen"] and checks["neutralExpression"], checks
