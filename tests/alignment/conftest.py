"""Fixtures for the registration tests."""

from __future__ import annotations

import pytest

from fibsem_ophyd.alignment import Registrar

from .cases import SHIFTS, pair


@pytest.fixture(scope="session")
def known_shift_results() -> list[tuple[float, float, float, float, float]]:
    """(true_dy, true_dx, found_dy, found_dx, score) for every case in SHIFTS."""
    out = []
    for i in range(len(SHIFTS)):
        ref, mov, (dy, dx) = pair(i)
        res = Registrar(ref).register(mov)
        out.append((dy, dx, res.shift_y_px, res.shift_x_px, res.score))
    return out
