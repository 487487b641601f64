"""Acceptance: ``manage.py analyze`` on generated video (issue 3: "not done until").

Run on a generated live video with challenges it passes; run on each attack
video it fails with the right reason. Each case uses a different container
(y4m, mp4, webm, a folder of JPEGs) so every input path is exercised.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from tests.face_engine import synthetic
from tests.face_engine.synth_capture import attack_clip, live_clip

pytestmark = pytest.mark.slow


def _analyze(path: Path, *args: str) -> dict[str, Any]:
    out = io.StringIO()
    call_command("analyze", str(path), "--engine", "dlib", *args, stdout=out)
    return json.loads(out.getvalue())


def _frames(jpegs: tuple[bytes, ...]) -> list[synthetic.Frame]:
    # The clips the contract tests use (cached per session), so nothing is generated twice.
    return [synthetic.decode_jpeg(j) for j in jpegs]


def test_a_generated_live_video_with_challenges_passes(tmp_path: Path) -> None:
    challenges = ("turn_right", "mouth_open", "nod")
    video = synthetic.write_y4m(_frames(live_clip("t1_2", challenges)), tmp_path / "live.y4m")
    report = _analyze(video, "--challenges", ",".join(challenges))
    assert report["verdict"] == "pass", report["reasons"]
    assert report["challenges"] == [{"name": name, "passed": True} for name in challenges]
    assert report["estimatedGender"] in ("Male", "Female")
    assert report["engine"] == "dlib"


@pytest.mark.parametrize(
    ("kind", "target", "reason"),
    [
        ("print_moved", "print.mp4", "presentationAttack"),
        ("screen_replay", "screen.webm", "presentationAttack"),
        ("frozen", "frozen.y4m", "presentationAttack"),
        ("face_swap", "frames", "faceChanged"),
    ],
)
def test_each_generated_attack_video_fails_with_the_right_reason(
    tmp_path: Path, kind: str, target: str, reason: str
) -> None:
    path = synthetic.write_video(_frames(attack_clip(kind)), tmp_path / target)
    report = _analyze(path, "--passive")
    assert report["verdict"] == "fail", report
    assert reason in report["reasons"]
