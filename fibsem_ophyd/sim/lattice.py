"""Deterministic multi-octave value noise on a global lattice (seeded, seamless).

A lattice value depends only on (seed, field, octave, i, j), so any region at any
pixel size evaluates to the same underlying field: tiles join without seams and
coarse views agree with fine ones.
"""

from __future__ import annotations

import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser (wrapping uint64 arithmetic)."""
    h = (h ^ (h >> np.uint64(30))) * _M1
    h = (h ^ (h >> np.uint64(27))) * _M2
    return h ^ (h >> np.uint64(31))


def lattice_values(key: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Uniform values in [-1, 1) at integer lattice points (broadcast i, j)."""
    with np.errstate(over="ignore"):
        k = np.uint64(key & 0xFFFFFFFFFFFFFFFF)
        h = _mix(np.asarray(i, np.int64).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) ^ k)
        h = _mix(h ^ (np.asarray(j, np.int64).astype(np.uint64) + np.uint64(0x632BE59BD9B4E019)))
    return ((h >> np.uint64(11)).astype(np.float64) * (2.0 / 2.0**53) - 1.0).astype(np.float32)


def octave_key(seed: int, field: int, octave: int) -> int:
    return (seed * 1_000_003 + field * 7919 + octave * 104_729 + 1) & 0xFFFFFFFFFFFFFFFF


def _smooth(f: np.ndarray) -> np.ndarray:
    return f * f * f * (f * (f * 6.0 - 15.0) + 10.0)


def _weights(x: np.ndarray) -> tuple[np.ndarray, int]:
    """Interpolation matrix (len(x) × n_lattice) for lattice coordinates x, and the first index."""
    i0 = np.floor(x).astype(np.int64)
    s = _smooth(x - i0).astype(np.float32)
    first = int(i0.min())
    n = int(i0.max()) - first + 2
    w = np.zeros((x.size, n), np.float32)
    rows = np.arange(x.size)
    w[rows, i0 - first] = 1.0 - s
    w[rows, i0 - first + 1] = s
    return w, first


def grid_octave(key: int, u_m: np.ndarray, v_m: np.ndarray, wavelength_m: float) -> np.ndarray:
    """One octave on the separable grid (rows = v_m, columns = u_m); shape (len(v), len(u))."""
    wu, iu = _weights(u_m / wavelength_m)
    wv, iv = _weights(v_m / wavelength_m)
    ii = np.arange(iu, iu + wu.shape[1])[None, :]
    jj = np.arange(iv, iv + wv.shape[1])[:, None]
    lat = lattice_values(key, ii, jj)  # (nv, nu)
    return wv @ lat @ wu.T


def point_octave(key: int, u_m: np.ndarray, v_m: np.ndarray, wavelength_m: float) -> np.ndarray:
    """One octave at arbitrary points (same field as `grid_octave`)."""
    x = np.asarray(u_m, np.float64) / wavelength_m
    y = np.asarray(v_m, np.float64) / wavelength_m
    i0 = np.floor(x).astype(np.int64)
    j0 = np.floor(y).astype(np.int64)
    sx = _smooth(x - i0)
    sy = _smooth(y - j0)
    v00 = lattice_values(key, i0, j0)
    v10 = lattice_values(key, i0 + 1, j0)
    v01 = lattice_values(key, i0, j0 + 1)
    v11 = lattice_values(key, i0 + 1, j0 + 1)
    top = v00 * (1 - sx) + v10 * sx
    bottom = v01 * (1 - sx) + v11 * sx
    return (top * (1 - sy) + bottom * sy).astype(np.float32)


def wavelengths_m(longest_m: float, shortest_m: float) -> list[float]:
    """Octave wavelengths, halving from `longest_m` while >= `shortest_m`."""
    out = []
    lam = longest_m
    while lam >= shortest_m:
        out.append(lam)
        lam /= 2.0
    return out


COARSE_STEP_PX = 16  # coarse octaves are sampled every this many pixels, then interpolated


def _gather_octave(key: int, u_m: np.ndarray, v_m: np.ndarray, wavelength_m: float) -> np.ndarray:
    """Same as `grid_octave`, by gathering (cheaper when the lattice is dense)."""
    x, y = u_m / wavelength_m, v_m / wavelength_m
    i0, j0 = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
    sx, sy = _smooth(x - i0).astype(np.float32), _smooth(y - j0).astype(np.float32)
    ifirst, jfirst = int(i0.min()), int(j0.min())
    ii = np.arange(ifirst, int(i0.max()) + 2)[None, :]
    jj = np.arange(jfirst, int(j0.max()) + 2)[:, None]
    lat = lattice_values(key, ii, jj)
    rows = lat[j0 - jfirst] * (1 - sy)[:, None] + lat[j0 - jfirst + 1] * sy[:, None]
    ci = i0 - ifirst
    return rows[:, ci] * (1 - sx)[None, :] + rows[:, ci + 1] * sx[None, :]


def _linear_upsample_weights(n: int, step: int) -> np.ndarray:
    """(n × m) weights interpolating samples taken every `step` points, starting at 0."""
    m = (n - 1) // step + 2
    x = np.arange(n) / step
    i0 = np.floor(x).astype(np.int64)
    f = (x - i0).astype(np.float32)
    w = np.zeros((n, m), np.float32)
    w[np.arange(n), i0] = 1 - f
    w[np.arange(n), i0 + 1] = f
    return w


def grid_fbm(
    seed: int, field: int, u_m: np.ndarray, v_m: np.ndarray, octaves: list[float], pixel_m: float
) -> np.ndarray:
    """Sum of the octaves (equal amplitude) that the grid's pixel size can resolve.

    `u_m`, `v_m` must be evenly spaced. Octaves much longer than a pixel are evaluated
    on a coarse sub-grid (on the same global lattice for every tile) and interpolated.
    """
    out = np.zeros((v_m.size, u_m.size), np.float32)
    step = COARSE_STEP_PX
    coarse = [(o, lam) for o, lam in enumerate(octaves) if lam >= 8 * step * pixel_m]
    if coarse and min(u_m.size, v_m.size) > 2 * step:
        du, dv = u_m[1] - u_m[0], v_m[1] - v_m[0]
        wu = _linear_upsample_weights(u_m.size, step)
        wv = _linear_upsample_weights(v_m.size, step)
        uc = u_m[0] + du * step * np.arange(wu.shape[1])
        vc = v_m[0] + dv * step * np.arange(wv.shape[1])
        acc = np.zeros((vc.size, uc.size), np.float32)
        for o, lam in coarse:
            acc += grid_octave(octave_key(seed, field, o), uc, vc, lam)
        out += wv @ acc @ wu.T
        done = {o for o, _ in coarse}
    else:
        done = set()
    for o, lam in enumerate(octaves):
        if o in done:
            continue
        if lam < 2.0 * pixel_m:
            break
        key = octave_key(seed, field, o)
        if lam * 64 < pixel_m * max(u_m.size, v_m.size):
            out += _gather_octave(key, u_m, v_m, lam)
        else:
            out += grid_octave(key, u_m, v_m, lam)
    return out


def point_fbm(
    seed: int, field: int, u_m: np.ndarray, v_m: np.ndarray, octaves: list[float]
) -> np.ndarray:
    out = np.zeros(np.broadcast(np.asarray(u_m), np.asarray(v_m)).shape, np.float32)
    for o, lam in enumerate(octaves):
        out += point_octave(octave_key(seed, field, o), u_m, v_m, lam)
    return out
