"""The screen check: is the face shown on a display (a photo or a replayed video on a phone or monitor)?

A display is a lattice of pixels (and of R, G, B sub-pixel stripes). Filmed by
a camera, that lattice aliases into moire: a few sharp, isolated peaks in the
spatial spectrum of the face, which skin, hair and paper do not have
(their spectrum falls off smoothly; sensor noise is flat). This is the
evidence that catches a replayed live session, which has everything else a
live face has: blinks, expressions and the parallax of a real head, recorded.

Per sampled frame (``screen_peak``): a 96x96 patch at the face's centre in the
camera's own pixels (resampling would blur the lattice away), a Hann window,
the log magnitude spectrum, and how far its highest bin outside the low
frequencies stands above its 5x5 neighbourhood's median. JPEG's 8x8 blocks are
periodic too: their harmonics (multiples of 1/8 cycle per pixel on both axes)
are left out, so a heavily compressed live frame is not a screen.

Limits (docs/engine.md): a display far from the camera, or one whose pixels
are finer than the camera resolves, leaves no lattice; the check then has no
evidence either way and the other checks decide.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from .backends.base import Box, GrayImage

PATCH = 96  # pixels; 1/8 cycle per pixel falls on bin 12 exactly
MIN_RADIUS = 0.12  # cycles per pixel below which the face's own shading dominates
# Chosen on world A (tests/face_engine/synthetic.py, 2-D warps; see docs/engine.md "The screen check"):
# live, print, bent-print, frozen and swapped faces read 1.15-1.7 in single frames (231 clips), screens and
# replays 2.0-3.4 as a capture's median.
SCREEN_PEAK = 1.9
SCREEN_SAMPLE_EVERY = 3  # face frames between two samples (the check costs ~0.3 ms)
MIN_SCREEN_SAMPLES = 5  # sampled frames before the check may call a capture a screen
# Of the sampled frames, the share at or above SCREEN_PEAK that makes a screen. Chosen on worlds A and B: no
# sampled frame of any of their live clips reached SCREEN_PEAK, and world B's passive screens and replays
# that a display farther off shows more faintly reached it on 27-40 % of their samples (a replay that blinked
# passed at one half). A quarter keeps every live clip of both worlds clear (docs/benchmarks.md, "A faint
# display's lattice").
SCREEN_SHARE = 0.25

_WINDOW = np.outer(np.hanning(PATCH), np.hanning(PATCH)).astype(np.float32)


def _considered_bins() -> npt.NDArray[np.bool_]:
    yy, xx = np.mgrid[:PATCH, :PATCH] - PATCH // 2
    radius = np.hypot(yy, xx) / PATCH
    block = PATCH // 8

    def near_block_harmonic(k: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
        off = np.abs(k) % block
        return np.asarray(np.minimum(off, block - off) <= 1)

    return np.asarray((radius > MIN_RADIUS) & ~(near_block_harmonic(yy) & near_block_harmonic(xx)))


_CONSIDERED = _considered_bins()


def screen_peak(gray: GrayImage, box: Box) -> float | None:
    """How far the sharpest spectral peak of the face's centre stands above its surroundings (log units).

    None when the patch does not fit inside the frame.
    """
    # ``box`` is (left, top, right, bottom), as everywhere in the engine (``backends.base.Box``).
    x0, y0 = int((box[0] + box[2]) / 2) - PATCH // 2, int((box[1] + box[3]) / 2) - PATCH // 2
    if x0 < 0 or y0 < 0 or x0 + PATCH > gray.shape[1] or y0 + PATCH > gray.shape[0]:
        return None
    patch = gray[y0 : y0 + PATCH, x0 : x0 + PATCH].astype(np.float32)
    patch -= float(patch.mean())
    spectrum = np.log1p(np.abs(np.fft.fftshift(np.fft.fft2(patch * _WINDOW)))).astype(np.float32)
    background = cv2.medianBlur(spectrum, 5)
    return float((spectrum - background)[_CONSIDERED].max())


def is_screen(samples: int, hits: int) -> bool:
    """Enough sampled frames, and at least ``SCREEN_SHARE`` of them with the lattice's peaks."""
    return samples >= MIN_SCREEN_SAMPLES and hits >= SCREEN_SHARE * samples
