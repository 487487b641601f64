"""Issue 11's targets on a sample of both test worlds: APCER 0 % and BPCER at most 5 % on each.

The full figures (63 live clips and 168 attacks per world) come from
``bench/worlds.py run`` and are in docs/benchmarks.md; this builds a smaller
set of each world (2 live clips and 1 attack per person: 14 live clips and 7
attacks) and runs it through ``manage.py evaluate``, so that it flips when
the engine is fixed. (Every 70th clip of the full set, 3 live clips and a
print, stopped showing the failure once the depth fit freed one live head,
although the full sets still miss the targets.)
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from tests.face_engine.worlds import build

SAMPLE = {"n_people": 7, "lives": 2, "attacks": 1, "seed": 0, "stride": 1}


def _evaluate(directory: Path) -> dict[str, Any]:
    """The configured default engine's figures: the test follows the engine the service would use."""
    out = io.StringIO()
    call_command("evaluate", str(directory), stdout=out, stderr=io.StringIO())
    return dict(json.loads(out.getvalue().strip().splitlines()[-1]))


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="issue 11: the default engine (MediaPipe) refuses live people of both worlds (a passive hold of world A "
    "without evidence; on world B a passive hold and a live head called flat, presentationAttack)",
)
def test_both_worlds_meet_the_targets(tmp_path: Path) -> None:
    summaries = {}
    for world in ("a", "b"):
        summary = _evaluate(build(world, tmp_path / world, **SAMPLE))
        assert (summary["lives"], summary["attacks"]) == (14, 7)
        summaries[world] = summary
    failures = {
        world: [(c["clip"], c["verdict"], c["reasons"]) for c in s["perClip"] if not c["correct"]]
        for world, s in summaries.items()
    }
    rates = {world: (s["apcer"], s["bpcer"]) for world, s in summaries.items()}
    assert all(apcer == 0.0 and bpcer <= 0.05 for apcer, bpcer in rates.values()), (rates, failures)


def test_a_live_only_build_renders_the_worlds_own_live_clips_and_nothing_else(tmp_path: Path) -> None:
    sizes: dict[str, Any] = {"n_people": 1, "lives": 1, "attacks": 1, "seed": 3}
    whole = json.loads((build("a", tmp_path / "whole", **sizes) / "manifest.json").read_text())
    live = build("a", tmp_path / "live", **sizes, live_only=True)
    manifest = json.loads((live / "manifest.json").read_text())
    assert len(manifest) == 1
    assert manifest == {name: entry for name, entry in whole.items() if entry["expect"] == "pass"}
    assert sorted(p.name for p in live.iterdir() if p.is_dir()) == list(manifest)
