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
    reason="issue 11: the default engine (MediaPipe) refuses live people of both worlds (world A's sample: a live "
    "clip of t1_3 sent to retry; world B's: two live clips of p4, one called a presentationAttack)",
)
# One test per world, so the two samples (about 70 s each on a 2-core VM) run on two test workers at once.
@pytest.mark.parametrize("world", ["a", "b"])
def test_each_world_meets_the_targets(tmp_path: Path, world: str) -> None:
    summary = _evaluate(build(world, tmp_path / world, **SAMPLE))
    assert (summary["lives"], summary["attacks"]) == (14, 7)
    failures = [(c["clip"], c["verdict"], c["reasons"]) for c in summary["perClip"] if not c["correct"]]
    rates = (summary["apcer"], summary["bpcer"])
    assert rates[0] == 0.0 and rates[1] <= 0.05, (rates, failures)


def test_a_live_only_build_renders_the_worlds_own_live_clips_and_nothing_else(tmp_path: Path) -> None:
    sizes: dict[str, Any] = {"n_people": 1, "lives": 1, "attacks": 1, "seed": 3}
    whole = json.loads((build("a", tmp_path / "whole", **sizes) / "manifest.json").read_text())
    live = build("a", tmp_path / "live", **sizes, live_only=True)
    manifest = json.loads((live / "manifest.json").read_text())
    assert len(manifest) == 1
    assert manifest == {name: entry for name, entry in whole.items() if entry["expect"] == "pass"}
    assert sorted(p.name for p in live.iterdir() if p.is_dir()) == list(manifest)
