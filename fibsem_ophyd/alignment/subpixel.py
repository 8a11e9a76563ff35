"""Sub-pixel peak location on a band-limited correlation given by its half spectrum.

The correlation surface ``c(y, x) = Re sum_k w_k C_k exp(2 pi i (fy_k y + fx_k x))`` is
evaluated exactly (no interpolation) by matrix-multiply DFTs, as in the upsampled DFT of
Guizar-Sicairos et al. (2008): first on a small grid around the coarse peak, then
polished by Newton iterations with the analytic gradient and Hessian.
"""

from __future__ import annotations

import numpy as np

TWO_PI = 2.0 * np.pi
_SERIAL_MACS = 60_000  # below the m*n*k at which OpenBLAS threads complex gemm (~65536)


def serial_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` in row blocks small enough for BLAS to stay single-threaded: for these
    small products, spinning BLAS threads cost far more CPU time (and, on a busy 2-core
    host, wall time) than they save."""
    rows = max(1, _SERIAL_MACS // max(1, a.shape[1] * b.shape[1]))
    if a.shape[0] <= rows:
        return a @ b
    return np.concatenate([a[i : i + rows] @ b for i in range(0, a.shape[0], rows)])


class SpectralPeak:
    """Exact evaluation of a correlation surface from a compact, cropped rfft2 spectrum.

    ``spec`` rows correspond to signed frequencies ``fy`` (cycles/px), columns to the
    non-negative frequencies ``fx`` of a real-input FFT (the Nyquist bin excluded).
    """

    def __init__(self, spec: np.ndarray, fy: np.ndarray, fx: np.ndarray) -> None:
        self.spec = spec
        self.fy = fy
        self.fx = fx
        # hermitian folding: every column but DC stands for itself and its mirror
        self.col_weight = np.where(fx == 0, 1.0, 2.0)

    def grid(self, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        """Surface values on the grid ``ys`` x ``xs`` (pixels), shape (len(ys), len(xs))."""
        ex = np.exp(TWO_PI * 1j * np.outer(self.fx, xs)) * self.col_weight[:, None]
        ey = np.exp(TWO_PI * 1j * np.outer(ys, self.fy))
        return serial_matmul(ey, serial_matmul(self.spec, ex.astype(self.spec.dtype))).real

    def derivatives(self, y: float, x: float) -> tuple[float, np.ndarray, np.ndarray]:
        """Value, gradient (d/dy, d/dx) and Hessian at ``(y, x)``."""
        ix = TWO_PI * 1j * self.fx
        ex = np.exp(ix * x) * self.col_weight
        cols = np.stack([ex, ex * ix, ex * ix * ix], axis=1).astype(self.spec.dtype)
        a = serial_matmul(self.spec, cols)  # (rows, 3): d^0, d^1, d^2 along x
        iy = TWO_PI * 1j * self.fy
        ey = np.exp(iy * y)
        v, vx, vxx = (ey @ a).real
        vy, vxy = ((ey * iy) @ a[:, :2]).real
        vyy = ((ey * iy * iy) @ a[:, 0]).real
        return float(v), np.array([vy, vx]), np.array([[vyy, vxy], [vxy, vxx]])

    def log_derivatives(self, y: float, x: float) -> tuple[np.ndarray, np.ndarray]:
        """Gradient and Hessian of ``log c`` at ``(y, x)`` (``c`` must be positive)."""
        v, g, h = self.derivatives(y, x)
        v = max(v, np.finfo(float).tiny)
        return g / v, h / v - np.outer(g, g) / (v * v)

    def refine(
        self,
        y0: float,
        x0: float,
        radius: float,
        tol: float = 1e-5,
        envelope: SpectralPeak | None = None,
    ) -> tuple[float, float]:
        """Maximum of ``log c - log envelope`` near ``(y0, x0)``, by Newton steps until they
        fall below ``tol`` px. If Newton leaves the concave region or ``radius``, a grid of
        pitch 0.25 px within ``radius`` seeds it instead. Returns ``(y, x)``.

        ``envelope`` is the overlap weight of the two windows versus shift (the window
        autocorrelation); dividing it out removes the pull of the windows toward zero
        shift."""
        start = np.array([y0, x0])
        p = self._newton(start, radius, tol, envelope)
        if p is None:
            offs = np.arange(-radius, radius + 0.125, 0.25)
            vals = self.grid(y0 + offs, x0 + offs)
            iy, ix = np.unravel_index(int(np.argmax(vals)), vals.shape)
            start = np.array([y0 + offs[iy], x0 + offs[ix]])
            p = self._newton(start, 0.25, tol, envelope)
            if p is None:
                p = start
        return float(p[0]), float(p[1])

    def _newton(
        self, start: np.ndarray, radius: float, tol: float, envelope: SpectralPeak | None
    ) -> np.ndarray | None:
        p = start.copy()
        for _ in range(12):
            g, h = self.log_derivatives(p[0], p[1])
            if envelope is not None:
                ge, he = envelope.log_derivatives(p[0], p[1])
                g, h = g - ge, h - he
            if np.trace(h) >= 0 or np.linalg.det(h) <= 0:
                return None  # not in the concave neighbourhood of a maximum
            d = -np.linalg.solve(h, g)
            p = p + d
            if np.hypot(*(p - start)) > radius:
                return None
            if np.hypot(*d) < tol:
                return p
        return None
