"""Evaluating the face engine on labelled captures: the manifest, one verdict per clip, the error rates.

Used by ``manage.py evaluate`` (see docs/evaluation.md). A data set is a folder
with ``manifest.json`` and one capture per clip: a folder of JPEG frames (name
order) or one video file. The rates follow ISO/IEC 30107-3:

* APCER of an attack type: the share of its attacks that were accepted
  (verdict ``pass``); ``apcer`` overall is the worst type's;
* BPCER: the share of live clips that were not accepted (``fail`` or ``retry``:
  a live person asked to try again was turned away this time);
* ACER: (APCER + BPCER) / 2.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from apps.face_engine.types import CHALLENGES, CapturePlan, ChallengeName, Verdict
from apps.face_engine.video import FRAME_SUFFIXES, VIDEO_SUFFIXES

MANIFEST = "manifest.json"
UNLABELLED_ATTACK = "unlabelled"
DEFAULT_FPS = 15.0
_KEYS = ("challenges", "expect", "fps", "attack")


class ManifestError(Exception):
    """The data set folder or its manifest is unusable; the message says where and why."""


@dataclass(frozen=True)
class Clip:
    name: str
    path: Path  # a folder of frames or a video file
    mode: Literal["active", "passive"]
    challenges: tuple[ChallengeName, ...]
    expect: Literal["pass", "fail"]
    fps: float
    attack: str | None  # the attack type of an expected "fail"; None for a live clip

    @property
    def plan(self) -> CapturePlan:
        return CapturePlan(mode=self.mode, challenges=self.challenges)


@dataclass(frozen=True)
class ClipResult:
    clip: Clip
    verdict: str
    confidence: float
    reasons: tuple[str, ...]
    frames: int

    @property
    def accepted(self) -> bool:
        return self.verdict == "pass"

    @property
    def correct(self) -> bool:
        return self.accepted == (self.clip.expect == "pass")

    def to_json(self) -> dict[str, Any]:
        return {
            "clip": self.clip.name,
            "expect": self.clip.expect,
            "attack": self.clip.attack,
            "challenges": list(self.clip.challenges) if self.clip.mode == "active" else "passive",
            "verdict": self.verdict,
            "confidence": round(self.confidence, 4),
            "reasons": list(self.reasons),
            "correct": self.correct,
            "frames": self.frames,
        }


def clip_result(*, clip: Clip, verdict: Verdict, frames: int) -> ClipResult:
    return ClipResult(
        clip=clip,
        verdict=str(verdict.verdict),
        confidence=float(verdict.confidence),
        reasons=tuple(str(r) for r in verdict.reasons),
        frames=frames,
    )


# --- the manifest ---------------------------------------------------------------------------------


def manifest_load(directory: Path) -> list[Clip]:
    """Every clip of the data set in ``directory``, checked before anything is analysed."""
    if not directory.is_dir():
        raise ManifestError(f"{directory} is not a directory.")
    path = directory / MANIFEST
    if not path.is_file():
        raise ManifestError(f"{directory} has no {MANIFEST}.")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(raw, dict) or not raw:
        raise ManifestError(f"{path} must be a non-empty JSON object mapping clip names to their labels.")
    return [_clip(directory, str(name), entry) for name, entry in raw.items()]


def _clip(directory: Path, name: str, entry: Any) -> Clip:
    where = f"{MANIFEST}: clip {name!r}"
    if not isinstance(entry, dict):
        raise ManifestError(f"{where} must be an object with {', '.join(_KEYS)}.")
    mode, challenges = _challenges(where, entry.get("challenges"))
    expect = entry.get("expect")
    if expect not in ("pass", "fail"):
        raise ManifestError(f'{where}: "expect" must be "pass" or "fail", not {expect!r}.')
    fps = entry.get("fps", DEFAULT_FPS)
    if isinstance(fps, bool) or not isinstance(fps, int | float) or not math.isfinite(fps) or fps <= 0:
        raise ManifestError(f'{where}: "fps" must be a positive number, not {fps!r}.')
    attack = entry.get("attack")
    if attack is not None and (not isinstance(attack, str) or not attack.strip()):
        raise ManifestError(f'{where}: "attack" must be a non-empty string such as "print".')
    if expect == "pass" and attack is not None:
        raise ManifestError(f'{where}: a clip expected to pass cannot name an "attack".')
    if expect == "fail" and attack is None:
        attack = UNLABELLED_ATTACK
    return Clip(
        name=name,
        path=_clip_path(directory, name, where),
        mode=mode,
        challenges=challenges,
        expect=expect,
        fps=float(fps),
        attack=attack.strip() if attack else None,
    )


def _challenges(where: str, value: Any) -> tuple[Literal["active", "passive"], tuple[ChallengeName, ...]]:
    if value == "passive":
        return "passive", ()
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ManifestError(f'{where}: "challenges" must be "passive" or a non-empty list of challenge names.')
    unknown = [v for v in value if v not in CHALLENGES]
    if unknown:
        raise ManifestError(f"{where}: unknown challenge(s) {', '.join(unknown)}; use {', '.join(CHALLENGES)}.")
    return "active", tuple(cast(ChallengeName, v) for v in value)


def _clip_path(directory: Path, name: str, where: str) -> Path:
    if not name or Path(name).name != name or name in (".", ".."):
        raise ManifestError(f"{where}: a clip name is a file or folder name inside the data set folder.")
    found = []
    exact = directory / name
    if exact.is_dir() or (exact.is_file() and exact.suffix.lower() in VIDEO_SUFFIXES):
        found.append(exact)
    found += [
        directory / f"{name}{suffix}" for suffix in sorted(VIDEO_SUFFIXES) if (directory / f"{name}{suffix}").is_file()
    ]
    if not found:
        kinds = ", ".join(sorted(VIDEO_SUFFIXES))
        raise ManifestError(f"{where}: no folder {name}/ and no video {name}.y4m/.mp4 (or {kinds}) in {directory}.")
    if len(found) > 1:
        raise ManifestError(f"{where}: more than one capture matches ({', '.join(p.name for p in found)}).")
    path = found[0]
    if path.is_dir() and not any(f.suffix.lower() in FRAME_SUFFIXES for f in path.iterdir() if f.is_file()):
        raise ManifestError(f"{where}: the folder {path} holds no .jpg/.jpeg/.png frames.")
    return path


# --- the rates ------------------------------------------------------------------------------------


def _rate(bad: int, total: int) -> float | None:
    return round(bad / total, 4) if total else None


def evaluation_summary(results: Sequence[ClipResult]) -> dict[str, Any]:
    """The final JSON: counts, APCER (worst attack type) and per type, BPCER, ACER, and every clip."""
    lives = [r for r in results if r.clip.expect == "pass"]
    attacks = [r for r in results if r.clip.expect == "fail"]
    by_type: dict[str, list[ClipResult]] = {}
    for r in attacks:
        by_type.setdefault(str(r.clip.attack), []).append(r)
    apcer_by_type = {kind: _rate(sum(r.accepted for r in found), len(found)) for kind, found in sorted(by_type.items())}
    rates = [v for v in apcer_by_type.values() if v is not None]
    apcer = max(rates) if rates else None
    bpcer = _rate(sum(not r.accepted for r in lives), len(lives))
    acer = round((apcer + bpcer) / 2, 4) if apcer is not None and bpcer is not None else None
    return {
        "clips": len(results),
        "lives": len(lives),
        "attacks": len(attacks),
        "apcer": apcer,
        "bpcer": bpcer,
        "acer": acer,
        "apcerByType": apcer_by_type,
        "perClip": [r.to_json() for r in results],
    }


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def summary_lines(summary: Mapping[str, Any], results: Sequence[ClipResult]) -> list[str]:
    """The human part after the per-clip table: APCER per attack type, BPCER, ACER."""
    lines = ["", f"{'attack type':<24} {'attacks':>7} {'accepted':>8}  APCER"]
    for kind, rate in summary["apcerByType"].items():
        found = [r for r in results if r.clip.attack == kind]
        lines.append(f"{kind:<24} {len(found):>7} {sum(r.accepted for r in found):>8}  {_percent(rate)}")
    lives = [r for r in results if r.clip.expect == "pass"]
    rejected = sum(not r.accepted for r in lives)
    lines += [
        "",
        f"APCER (worst type) {_percent(summary['apcer'])}   "
        f"BPCER {_percent(summary['bpcer'])} ({rejected} of {len(lives)} live clips not accepted)   "
        f"ACER {_percent(summary['acer'])}",
    ]
    return lines


TABLE_HEADER = f"{'clip':<34} {'expect':<6} {'attack':<14} {'verdict':<7} {'conf':>5}  ok  reasons"


def table_row(result: ClipResult) -> str:
    c = result.clip
    mark = "ok" if result.correct else "XX"
    reasons = ",".join(result.reasons) or "-"
    return (
        f"{c.name[:34]:<34} {c.expect:<6} {(c.attack or '-')[:14]:<14} {result.verdict:<7} "
        f"{result.confidence:>5.2f}  {mark}  {reasons}"
    )
