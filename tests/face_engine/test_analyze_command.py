"""``manage.py analyze``: input forms, frame order and errors; and the Django-side engine glue."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.core import engine as core_engine
from apps.face_engine import factory
from tests.face_engine.synth_capture import live_clip


def _analyze(path: Path | str, *args: str) -> dict[str, Any]:
    out = io.StringIO()
    call_command("analyze", str(path), "--engine", "dlib", *args, stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture(scope="module")
def blink_frames(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("frames")
    for i, jpeg in enumerate(live_clip("astronaut", ("blink",))):
        (folder / f"frame_{i:04d}.jpg").write_bytes(jpeg)
    return folder


def test_a_folder_of_jpeg_frames_is_analysed_in_name_order_and_reported_in_full(blink_frames: Path) -> None:
    report = _analyze(blink_frames, "--challenges", "blink", "--fps", "15")
    assert report["verdict"] == "pass", report["reasons"]
    assert report["challenges"] == [{"name": "blink", "passed": True}]
    assert 0.7 <= report["confidence"] <= 1.0
    assert {"facePresence", "depth", "naturalMotion", "challenges", "sameFace", "quality"} <= set(report["scores"])
    assert isinstance(report["estimatedAge"], float) and report["estimatedGender"] == "Female"
    assert report["versions"]["engine"] == "dlib" and "dlib" in report["versions"]
    assert report["framesAnalysed"] <= len(list(blink_frames.iterdir()))


def test_a_challenge_the_person_never_did_fails_with_its_name(blink_frames: Path) -> None:
    report = _analyze(blink_frames, "--challenges", "smile")
    assert report["verdict"] != "pass"
    assert "challengeFailed:smile" in report["reasons"]


def test_undecodable_frames_are_skipped_and_counted(tmp_path: Path, blink_frames: Path) -> None:
    for i, frame in enumerate(sorted(blink_frames.iterdir())[:8]):
        (tmp_path / f"{i:03d}.jpg").write_bytes(frame.read_bytes())
    (tmp_path / "004b.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    report = _analyze(tmp_path, "--passive")
    assert report["framesRejected"] == 1
    assert report["framesAnalysed"] == 8
    assert report["verdict"] != "pass"  # half a second is not a capture


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--challenges", "blink,wink"), "Unknown challenge"),
        ((), "--passive"),
        (("--passive", "--challenges", "blink"), "either"),
        (("--passive", "--fps", "0"), "fps"),
    ],
)
def test_bad_options_are_explained(blink_frames: Path, args: tuple[str, ...], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        _analyze(blink_frames, *args)


def test_a_missing_path_or_a_file_that_is_not_a_video_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="does not exist"):
        _analyze(tmp_path / "nope.mp4", "--passive")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00" * 4096)
    with pytest.raises(CommandError):
        _analyze(junk, "--passive")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CommandError, match=r"no \.jpg"):
        _analyze(empty, "--passive")


def test_readiness_reports_the_chosen_engines_model_files_without_loading_them(settings) -> None:
    def status() -> tuple[bool, str]:
        core_engine.engine_settings.cache_clear()  # settings are read once per process; re-read them here
        return core_engine.engine_status()

    try:
        settings.FACE_ENGINE = "dlib"
        assert status() == (True, "dlib engine model files present")
        settings.FACE_ENGINE = "insightface"
        settings.INSIGHTFACE_HOME = "/nonexistent/insightface"
        ok, message = status()
        assert not ok
        assert "install_insightface_pack" in message
        settings.FACE_ENGINE = "auto"  # MediaPipe when InsightFace's files are absent
        assert status() == (True, "mediapipe engine model files present")
    finally:
        core_engine.engine_settings.cache_clear()


def test_get_engine_builds_one_engine_per_process(settings) -> None:
    settings.FACE_ENGINE = "dlib"
    core_engine.engine_settings.cache_clear()
    try:
        first = core_engine.get_engine()
        assert core_engine.get_engine() is first
        assert first.name == "dlib"
        assert core_engine.get_engine("dlib") is first
    finally:
        core_engine.engine_settings.cache_clear()


def test_get_engine_resolves_auto_once_not_on_every_frame(settings, monkeypatch) -> None:
    """ "auto" looks for model files on disk; ``get_engine`` runs for every frame, so it looks once."""
    settings.FACE_ENGINE = "auto"
    core_engine.engine_settings.cache_clear()
    try:
        first = core_engine.get_engine()

        def looked(*args: object, **kwargs: object) -> bool:
            raise AssertionError("get_engine looked for model files again")

        monkeypatch.setattr(factory, "insightface_available", looked)
        monkeypatch.setattr(factory, "mediapipe_available", looked)
        assert core_engine.get_engine() is first
    finally:
        core_engine.engine_settings.cache_clear()


def test_choosing_insightface_without_its_files_is_a_command_error_naming_the_install_command(
    blink_frames: Path, settings, tmp_path: Path
) -> None:
    settings.INSIGHTFACE_HOME = str(tmp_path / "no-packs-here")
    core_engine.engine_settings.cache_clear()  # settings are read once per process; re-read them here
    try:
        out = io.StringIO()
        with pytest.raises(CommandError, match="install_insightface_pack"):
            call_command("analyze", str(blink_frames), "--engine", "insightface", "--passive", stdout=out)
    finally:
        core_engine.engine_settings.cache_clear()
