"""Fixtures for the twin tests."""

import pytest
from twin_helpers import make_world

from fibsem_ophyd.sim import TwinWorld


@pytest.fixture
def world() -> TwinWorld:
    return make_world()
