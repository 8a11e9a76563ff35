"""Shared fixtures: a real RunEngine and a real Microscope on the digital twin."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from bluesky import RunEngine
from ophyd_async.core import StaticPathProvider, UUIDFilenameProvider

from fibsem_ophyd.sim.tile_cache import TILE_CACHE_ENV_VAR
from fibsem_ophyd.storage import EmbeddedStore

# Every twin of the suite (xdist workers and the processes tests start included) shares
# one on-disk tile cache: most tests draw the same specimens (sim/tile_cache.py).
os.environ.setdefault(
    TILE_CACHE_ENV_VAR, str(Path(tempfile.gettempdir()) / f"fibsem-ophyd-tiles-{os.getuid()}")
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The tests marked `slow` first (in their order), then the rest: with xdist a long
    test started last would keep one worker busy while the others sit idle."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(scope="session")
def shared_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStore]:
    """One tiled server (127.0.0.1) for the tests that only write and read runs (start-up
    takes seconds): storage and the data engine's replay."""
    store = EmbeddedStore(data_dir=tmp_path_factory.mktemp("store"))
    try:
        store.start()
        yield store
    finally:
        store.stop()


@pytest.fixture
def RE() -> Iterator[RunEngine]:
    loop = asyncio.new_event_loop()
    engine = RunEngine({}, call_returns_result=True, loop=loop)
    yield engine
    if engine.state not in ("idle", "panicked"):
        engine.halt()
    engine._loop.call_soon_threadsafe(engine._loop.stop)
    engine._th.join(timeout=5)
    loop.close()


@pytest.fixture
def frames_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "frames"
    folder.mkdir()
    return folder


@pytest.fixture
def microscope(RE: RunEngine, frames_dir: Path):
    from fibsem_ophyd.connect import connect_microscope
    from profiles.detectors import wire_detectors

    m = connect_microscope(path_provider=StaticPathProvider(UUIDFilenameProvider(), frames_dir))
    wire_detectors(m)
    return m
