"""A small z-buffer triangle rasteriser in NumPy: per-pixel interpolated attributes of the nearest surface.

Every triangle tests the pixels of a K x K window at its bounding box's
corner at once (K is the largest box, capped), so a frame is a handful of
vectorised passes rather than a Python loop over triangles. For each pixel
the candidate with the smallest camera distance wins (a sort, not a loop).
"""

from __future__ import annotations

import numpy as np

_WINDOWS = (2, 3, 4, 6, 9, 14)


def _smaller(k: int) -> int:
    i = _WINDOWS.index(k)
    return _WINDOWS[i - 1] if i else 0


def _candidates(
    p: np.ndarray, lo: np.ndarray, tris: np.ndarray, depth: np.ndarray, attrs: np.ndarray, k: int, size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pixel index, depth, attributes) of every pixel centre inside these triangles (boxes up to k x k)."""
    w, h = size
    oy, ox = np.mgrid[0:k, 0:k]
    px = (lo[:, :1] + ox.ravel()[None, :]).astype(np.int32)  # M x k*k
    py = (lo[:, 1:] + oy.ravel()[None, :]).astype(np.int32)
    p = p.astype(np.float32)
    a, b, c = p[:, 0], p[:, 1], p[:, 2]
    area = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    ok = np.abs(area) > 1e-9
    area = np.where(ok, area, np.float32(1.0))[:, None]

    fx, fy = px.astype(np.float32), py.astype(np.float32)

    def edge(p0: np.ndarray, p1: np.ndarray) -> np.ndarray:
        # The edge function as A*x + B*y + C, per triangle: three operations per pixel.
        ea = -(p1[:, 1:2] - p0[:, 1:2]) / area
        eb = (p1[:, 0:1] - p0[:, 0:1]) / area
        ec = -(ea * p0[:, 0:1] + eb * p0[:, 1:2])
        return ea * fx + eb * fy + ec

    l0, l1, l2 = edge(b, c), edge(c, a), edge(a, b)
    eps = -1e-6
    inside = (l0 >= eps) & (l1 >= eps) & (l2 >= eps) & ok[:, None] & (px >= 0) & (py >= 0) & (px < w) & (py < h)
    tri_i, cand = np.nonzero(inside)
    bary = np.stack([l0[tri_i, cand], l1[tri_i, cand], l2[tri_i, cand]], 1)
    verts = tris[tri_i]
    wts = bary / depth[verts].astype(np.float32)  # perspective-correct: attributes / z are linear on the screen
    z = 1.0 / wts.sum(1)
    wts *= z[:, None]
    values = np.einsum("nk,nkc->nc", wts, attrs[verts].astype(np.float32))
    return py[tri_i, cand].astype(np.int64) * w + px[tri_i, cand], z, values


def _rank(z: np.ndarray) -> np.ndarray:
    rank = np.empty(len(z), np.int64)
    rank[np.argsort(z)] = np.arange(len(z))
    return rank


def rasterize(
    points: np.ndarray, depth: np.ndarray, attrs: np.ndarray, tris: np.ndarray, size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Rasterise triangles ``tris`` (M x 3 vertex indices) of projected ``points`` (N x 2, pixels).

    ``depth`` (N,) is each vertex's distance from the camera (smaller is nearer);
    ``attrs`` (N x C) are interpolated with perspective-correct barycentrics.
    Returns (H x W x C attributes, H x W bool coverage).
    """
    w, h = size
    p = points[tris]  # M x 3 x 2
    lo = np.floor(p.min(1)).astype(np.int64)
    hi = np.ceil(p.max(1)).astype(np.int64)
    keep = (hi[:, 0] >= 0) & (hi[:, 1] >= 0) & (lo[:, 0] < w) & (lo[:, 1] < h)
    p, lo, hi, tris = p[keep], lo[keep], hi[keep], tris[keep]
    out = np.zeros((h, w, attrs.shape[1]), np.float32)
    covered = np.zeros((h, w), bool)
    if len(tris) == 0:
        return out, covered
    size_px = (hi - lo).max(1) + 1
    found = []
    for k in _WINDOWS:
        # Triangles grouped by size: each group tests only the pixels its largest box can hold.
        group = np.nonzero(((size_px <= k) | (k == _WINDOWS[-1])) & (size_px > _smaller(k)))[0]
        if len(group):
            found.append(_candidates(p[group], lo[group], tris[group], depth, attrs, k, size))
    if not found:
        return out, covered
    pix = np.concatenate([f[0] for f in found])
    z = np.concatenate([f[1] for f in found])
    values = np.concatenate([f[2] for f in found])
    # The nearest candidate of each pixel first: one sort on (pixel, depth rank).
    rank = _rank(z)
    order = np.argsort(pix * (len(z) + 1) + rank, kind="stable")
    pix_sorted = pix[order]
    first = np.ones(len(order), bool)
    first[1:] = pix_sorted[1:] != pix_sorted[:-1]
    win = order[first]
    flat = out.reshape(-1, attrs.shape[1])
    flat[pix[win]] = values[win]
    covered.reshape(-1)[pix[win]] = True
    return out, covered
