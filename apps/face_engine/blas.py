"""OpenBLAS's kernel, chosen from the CPU's own flags when OpenBLAS's table does not know the CPU.

dlib's face descriptor runs its convolutions through the system's OpenBLAS. OpenBLAS picks its kernels by the
CPU's family and model, and a build older than the CPU (Debian 12's 0.3.21 on a 5th-generation Xeon, model 207)
falls back to "Prescott": SSE3 kernels, without AVX, on a CPU that has AVX-512. The descriptor then took 52 ms
instead of 30 (docs/benchmarks.md). ``OPENBLAS_CORETYPE`` names the kernel instead; it is read when the library
loads, so this package sets it on import, before its dlib backend imports dlib, and never over an operator's own
choice.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

# What OpenBLAS's own kernels need (kernel/x86_64: SkylakeX's AVX-512 kernels, Haswell's AVX2 + FMA ones).
SKYLAKEX_FLAGS = frozenset({"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"})
HASWELL_FLAGS = frozenset({"avx2", "fma"})


def openblas_coretype(flags: Iterable[str]) -> str | None:
    """The widest OpenBLAS kernel set the CPU's flags allow; None: leave OpenBLAS to its own detection."""
    have = set(flags)
    if SKYLAKEX_FLAGS <= have:
        return "SkylakeX"
    if HASWELL_FLAGS <= have:
        return "Haswell"
    return None


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The first CPU's flags (Linux on x86-64); empty elsewhere."""
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name.strip() == "flags":
            return set(value.split())
    return set()


def blas_defaults() -> None:
    """One OpenBLAS thread per process, and its kernel named from the CPU's flags, unless set already."""
    # Every process that runs the engine runs one per core (FRAME_CONCURRENCY): OpenBLAS, under dlib's face
    # descriptor, must not start threads of its own on top.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if "OPENBLAS_CORETYPE" not in os.environ:
        coretype = openblas_coretype(cpu_flags())
        if coretype:
            os.environ["OPENBLAS_CORETYPE"] = coretype
