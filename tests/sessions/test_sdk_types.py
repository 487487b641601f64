"""The SDK's TypeScript declarations (sdk/js/*.d.ts) type-check, and a wrong one fails the check.

``tsc`` (npm ``typescript``, installed by ``scripts/test`` with ``npm ci``) checks ``sdk/js/typecheck/usage.tsx``,
an integrator's typed use of every declared name with real React types (``@types/react``), against the
declarations; ``.ci/run`` runs the same command. A copy of the package with one declaration loosened, or
one removed, must then fail: the usage's ``@ts-expect-error`` lines and calls catch both.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.served import ROOT

pytestmark = [pytest.mark.slow]

SDK = ROOT / "sdk" / "js"
TSC = ROOT / "node_modules" / "typescript" / "bin" / "tsc"


def _tsc(package: Path) -> subprocess.CompletedProcess[str]:
    if not TSC.exists():
        pytest.fail(f"{TSC} is missing: run `npm ci` (scripts/test does it)")
    command = ["node", str(TSC), "-p", str(package / "tsconfig.json")]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)


def _broken_copy(edit: tuple[str, str, str]) -> tuple[tempfile.TemporaryDirectory[str], Path]:
    """The package's declarations and usage in a folder under the repository (so node_modules resolves)."""
    holder = tempfile.TemporaryDirectory(dir=ROOT, prefix=".sdk-types-")
    package = Path(holder.name)
    for name in ("tsconfig.json", "index.d.ts", "liveproof.d.ts", "react.d.ts"):
        shutil.copy(SDK / name, package / name)
    shutil.copytree(SDK / "typecheck", package / "typecheck")
    name, old, new = edit
    text = (package / name).read_text()
    assert old in text, (name, old)
    (package / name).write_text(text.replace(old, new, 1))
    return holder, package


def test_the_declarations_type_check_against_the_typed_usage():
    checked = _tsc(SDK)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize(
    "edit",
    [
        # Too loose: any alert would pass.
        ("liveproof.d.ts", 'alert: "faceChanged" | "multipleFaces" | null;', "alert: string | null;"),
        # Missing: the React component's required prop.
        ("react.d.ts", "  accessToken: string;\n", ""),
        # Wrong: watch declared with the mount signature.
        ("liveproof.d.ts", "watch(options: WatchOptions): Watcher;", "watch(element: HTMLElement): Watcher;"),
        # Missing: onChallenge.
        ("liveproof.d.ts", "  onChallenge?:", "  onChallengeX?:"),
    ],
    ids=["loose-alert", "no-accessToken", "wrong-watch", "no-onChallenge"],
)
def test_a_wrong_declaration_fails_the_check(edit):
    holder, package = _broken_copy(edit)
    with holder:
        checked = _tsc(package)
    assert checked.returncode != 0, f"tsc accepted a wrong {edit[0]}"
    assert "error TS" in checked.stdout, checked.stdout + checked.stderr
