"""Fixtures for the geometry tests."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator: property tests are random but reproducible."""
    return np.random.default_rng(20240611)
