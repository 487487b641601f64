"""``manage.py evaluate DIR``: labelled captures in, per-clip verdicts and APCER/BPCER/ACER out (issue 11, item 5).

The data set is made of real generated clips in each container the command
reads (a JPEG folder, y4m, mp4); every verdict is checked against
``manage.py analyze`` on the same clip, which shares the session's replay code.
Bad folders and manifests end in a one-line error, never a traceback.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.core.evaluation import Clip, ClipResult, evaluation_summary
from tests.face_engine import synthetic
from tests.face_engine.synth_capture import attack_clip, live_clip, passive_clip


def _evaluate(directory: Path, *args: str) -> tuple[list[str], dict[str, Any]]:
    out = io.StringIO()
    call_command("evaluate", str(directory), "--engine", "dlib", *args, stdout=out, stderr=io.StringIO())
    lines = out.getvalue().rstrip("\n").split("\n")
    return lines, json.loads(lines[-1])


def _frames(jpegs: tuple[bytes, ...]) -> list[synthetic.Frame]:
    return [synthetic.decode_jpeg(j) for j in jpegs]


def _folder(jpegs: tuple[bytes, ...], path: Path) -> Path:
    path.mkdir()
    for i, jpeg in enumerate(jpegs):
        (path / f"{i:04d}.jpg").write_bytes(jpeg)
    return path


@pytest.mark.slow
def test_two_processes_give_the_same_table_and_figures_in_manifest_order(tmp_path: Path) -> None:
    _folder(attack_clip("frozen"), tmp_path / "frozen")
    _folder(passive_clip("t1_2"), tmp_path / "live")
    manifest = {
        "frozen": {"challenges": "passive", "expect": "fail", "attack": "frozen"},
        "live": {"challenges": "passive", "expect": "pass"},
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    one = _evaluate(tmp_path)
    assert [c["clip"] for c in one[1]["perClip"]] == ["frozen", "live"]
    assert _evaluate(tmp_path, "--jobs", "2") == one


@pytest.mark.slow
def test_a_labelled_data_set_gets_per_clip_verdicts_and_the_error_rates(tmp_path: Path) -> None:
    _folder(passive_clip("astronaut"), tmp_path / "live_passive")
    synthetic.write_y4m(_frames(live_clip("astronaut", ("blink",))), tmp_path / "live_blink.y4m")
    synthetic.write_mp4(_frames(attack_clip("print_moved", "t1_0")), tmp_path / "print_t1_0.mp4")
    _folder(attack_clip("frozen"), tmp_path / "frozen")
    manifest = {
        "live_passive": {"challenges": "passive", "expect": "pass", "fps": 15},
        "live_blink": {"challenges": ["blink"], "expect": "pass"},
        "print_t1_0": {"challenges": "passive", "expect": "fail", "attack": "print"},
        "frozen": {"challenges": ["blink"], "expect": "fail", "attack": "frozen"},
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))

    lines, summary = _evaluate(tmp_path)

    assert list(summary)[:6] == ["clips", "lives", "attacks", "apcer", "bpcer", "acer"]
    assert (summary["clips"], summary["lives"], summary["attacks"]) == (4, 2, 2)
    by_clip = {c["clip"]: c for c in summary["perClip"]}
    assert list(by_clip) == list(manifest)
    # The same verdict as analyze, which replays a capture with the session's code.
    for name, path, args in [
        ("live_passive", tmp_path / "live_passive", ["--passive"]),
        ("live_blink", tmp_path / "live_blink.y4m", ["--challenges", "blink"]),
        ("print_t1_0", tmp_path / "print_t1_0.mp4", ["--passive"]),
        ("frozen", tmp_path / "frozen", ["--challenges", "blink"]),
    ]:
        out = io.StringIO()
        call_command("analyze", str(path), "--engine", "dlib", *args, stdout=out)
        report = json.loads(out.getvalue())
        assert (by_clip[name]["verdict"], by_clip[name]["confidence"]) == (
            report["verdict"],
            round(report["confidence"], 4),
        )
        assert by_clip[name]["reasons"] == report["reasons"]
    assert by_clip["live_blink"]["verdict"] == "pass"
    assert by_clip["frozen"]["verdict"] == "fail" and "presentationAttack" in by_clip["frozen"]["reasons"]
    assert by_clip["print_t1_0"]["verdict"] != "pass"
    lives_rejected = sum(by_clip[n]["verdict"] != "pass" for n in ("live_passive", "live_blink"))
    assert summary["bpcer"] == lives_rejected / 2
    assert summary["apcer"] == 0.0 and summary["apcerByType"] == {"frozen": 0.0, "print": 0.0}
    assert summary["acer"] == (summary["apcer"] + summary["bpcer"]) / 2
    # The human table: a header, one row per clip (in manifest order), APCER per type, the totals.
    assert lines[0].split()[:3] == ["clip", "expect", "attack"]
    assert [row.split()[0] for row in lines[1:5]] == list(manifest)
    assert any(line.startswith("print ") for line in lines)
    assert any(line.startswith("APCER (worst type)") and "BPCER" in line and "ACER" in line for line in lines)


def _result(expect: str, verdict: str, attack: str | None = None) -> ClipResult:
    clip = Clip(
        name=f"{expect}-{verdict}-{attack}",
        path=Path("."),
        mode="passive",
        challenges=(),
        expect=expect,  # type: ignore[arg-type]
        fps=15.0,
        attack=attack,
    )
    return ClipResult(clip=clip, verdict=verdict, confidence=0.5, reasons=(), frames=10)


def test_rates_follow_iso_30107_3() -> None:
    results = [
        _result("pass", "pass"),
        _result("pass", "retry"),  # a live person sent to try again was not accepted
        _result("pass", "pass"),
        _result("pass", "fail"),
        _result("fail", "pass", "print"),
        _result("fail", "fail", "print"),
        _result("fail", "retry", "print"),
        _result("fail", "retry", "print"),
        _result("fail", "fail", "replay"),
        _result("fail", "fail", "replay"),
    ]
    summary = evaluation_summary(results)
    assert summary["apcerByType"] == {"print": 0.25, "replay": 0.0}
    assert summary["apcer"] == 0.25  # the worst attack type
    assert summary["bpcer"] == 0.5
    assert summary["acer"] == 0.375
    assert [c["correct"] for c in summary["perClip"]] == [True, False, True, False, False, True, True, True, True, True]
    only_lives = evaluation_summary(results[:4])
    assert (only_lives["apcer"], only_lives["acer"], only_lives["attacks"]) == (None, None, 0)


def _dataset(tmp_path: Path, manifest: Any, *, clip: str = "c1") -> Path:
    _folder((synthetic.encode_jpeg(synthetic.portrait("astronaut").image, 90),), tmp_path / clip)
    (tmp_path / "manifest.json").write_text(manifest if isinstance(manifest, str) else json.dumps(manifest))
    return tmp_path


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ("{not json", "is not valid JSON"),
        ("[]", "non-empty JSON object"),
        ({}, "non-empty JSON object"),
        ({"c1": "passive"}, "must be an object"),
        ({"c1": {"expect": "pass"}}, '"challenges" must be "passive" or a non-empty list'),
        ({"c1": {"challenges": [], "expect": "pass"}}, '"challenges" must be "passive" or a non-empty list'),
        ({"c1": {"challenges": ["wink"], "expect": "pass"}}, "unknown challenge(s) wink"),
        ({"c1": {"challenges": "passive", "expect": "live"}}, '"expect" must be "pass" or "fail"'),
        ({"c1": {"challenges": "passive", "expect": "pass", "fps": 0}}, '"fps" must be a positive number'),
        ({"c1": {"challenges": "passive", "expect": "pass", "fps": "15"}}, '"fps" must be a positive number'),
        ({"c1": {"challenges": "passive", "expect": "pass", "attack": "print"}}, 'cannot name an "attack"'),
        ({"c1": {"challenges": "passive", "expect": "fail", "attack": ""}}, '"attack" must be a non-empty string'),
        ({"c2": {"challenges": "passive", "expect": "pass"}}, "no folder c2/ and no video c2.y4m/.mp4"),
        ({"../c1": {"challenges": "passive", "expect": "pass"}}, "a clip name is a file or folder name"),
    ],
)
def test_a_bad_manifest_is_a_clear_error(tmp_path: Path, manifest: Any, message: str) -> None:
    directory = _dataset(tmp_path, manifest)
    with pytest.raises(CommandError) as caught:
        _evaluate(directory)
    assert message in str(caught.value)


def test_a_missing_folder_or_manifest_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="is not a directory"):
        _evaluate(tmp_path / "nope")
    with pytest.raises(CommandError, match=r"has no manifest\.json"):
        _evaluate(tmp_path)


def test_a_clip_folder_without_frames_or_two_captures_of_one_clip_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "manifest.json").write_text(json.dumps({"empty": {"challenges": "passive", "expect": "pass"}}))
    with pytest.raises(CommandError, match=r"holds no \.jpg/\.jpeg/\.png frames"):
        _evaluate(tmp_path)
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(CommandError, match="more than one capture matches"):
        _evaluate(tmp_path)


def test_an_unreadable_video_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "junk.mp4").write_bytes(b"this is not a video")
    (tmp_path / "manifest.json").write_text(json.dumps({"junk": {"challenges": "passive", "expect": "pass"}}))
    with pytest.raises(CommandError, match=r"clip 'junk'.*not a readable video"):
        _evaluate(tmp_path)
