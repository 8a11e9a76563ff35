"""Fixtures: a real tiled server on 127.0.0.1 (`shared_store` is in tests/conftest.py), a real
RunEngine, a real HDF5 detector."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from bluesky import RunEngine
from ophyd_async.core import init_devices
from ophyd_async.sim import SimBlobDetector

from fibsem_ophyd.storage import EmbeddedStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EmbeddedStore]:
    """A server of its own, for tests that stop, restart or crash things."""
    store = EmbeddedStore(data_dir=tmp_path / "data")
    try:
        store.start()
        yield store
    finally:
        store.stop()


@pytest.fixture
def RE() -> Iterator[RunEngine]:
    engine = RunEngine(call_returns_result=False)
    try:
        yield engine
    finally:
        if engine.state != "idle":
            engine.halt()


def make_detector(store: EmbeddedStore, name: str = "det") -> SimBlobDetector:
    with init_devices():
        det = SimBlobDetector(store.path_provider(), name=name)
    return det


@pytest.fixture
def detector_for(RE: RunEngine) -> Callable[[EmbeddedStore], SimBlobDetector]:
    """Make a detector writing HDF5 into a store's frames folder (after RE exists)."""
    return make_detector


@pytest.fixture
def det(RE: RunEngine, shared_store: EmbeddedStore) -> SimBlobDetector:
    return make_detector(shared_store)
