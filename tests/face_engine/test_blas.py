"""OpenBLAS's kernel (apps/face_engine/blas.py): dlib's face descriptor must not run on the generic kernel of a CPU that
the system's OpenBLAS is older than (Debian 12's 0.3.21 on a 5th-generation Xeon picked "Prescott": 52 ms a
descriptor instead of 29 on the same machine)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from apps.face_engine.blas import blas_defaults, cpu_flags, openblas_coretype

ROOT = Path(__file__).resolve().parents[2]

# An Emerald Rapids VM's flags (abridged): AVX-512, which OpenBLAS 0.3.21's model table does not know.
EMERALD_RAPIDS = "fpu sse sse2 ssse3 sse4_1 sse4_2 avx avx2 fma avx512f avx512dq avx512cd avx512bw avx512vl avx512_vnni"
ZEN3 = "fpu sse sse2 ssse3 sse4_1 sse4_2 avx avx2 fma bmi2"


@pytest.mark.parametrize(
    ("flags", "coretype"),
    [(EMERALD_RAPIDS, "SkylakeX"), (ZEN3, "Haswell"), ("fpu sse sse2 avx avx2", None), ("fpu sse sse2 sse3", None)],
)
def test_the_kernel_is_the_widest_the_cpu_flags_allow(flags, coretype):
    assert openblas_coretype(flags.split()) == coretype


def test_the_flags_are_read_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text(f"processor\t: 0\nmodel\t\t: 207\nflags\t\t: {EMERALD_RAPIDS}\n\nprocessor\t: 1\nflags\t\t: fpu\n")
    assert cpu_flags(info) == set(EMERALD_RAPIDS.split())
    assert cpu_flags(tmp_path / "missing") == set()


def test_an_operators_own_choice_is_kept(monkeypatch):
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Sandybridge")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    blas_defaults()
    assert os.environ["OPENBLAS_CORETYPE"] == "Sandybridge" and os.environ["OPENBLAS_NUM_THREADS"] == "2"


# The OpenBLAS that dlib loaded, as that library itself names its kernel (a fresh process: the choice is made once).
_LOADED_KERNEL = """
import ctypes, re, sys
sys.path.insert(0, sys.argv[1])
import apps.face_engine.backends.dlib
names = set()
for path in sorted(set(re.findall(r"\\S*libopenblas\\S*\\.so\\S*", open("/proc/self/maps").read()))):
    lib = ctypes.CDLL(path)
    if hasattr(lib, "openblas_get_corename"):
        lib.openblas_get_corename.restype = ctypes.c_char_p
        names.add(lib.openblas_get_corename().decode())
print(",".join(sorted(names)))
"""


@pytest.mark.skipif(sys.platform != "linux", reason="the kernel is read from /proc")
def test_dlib_runs_on_the_kernel_the_cpu_allows():
    expected = openblas_coretype(cpu_flags())
    if expected is None:
        pytest.skip("this CPU has neither AVX2 nor AVX-512: OpenBLAS's own choice stands")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENBLAS_")}
    command = [sys.executable, "-c", _LOADED_KERNEL, str(ROOT)]
    found = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=True).stdout.strip()
    if not found:
        pytest.skip("dlib is not linked against OpenBLAS here")
    assert found.split(",") == [expected], found
