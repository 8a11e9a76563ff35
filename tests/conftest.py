"""Shared fixtures: a real RunEngine and a real Microscope on the digital twin."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from bluesky import RunEngine
from ophyd_async.core import StaticPathProvider, UUIDFilenameProvider

from fibsem_ophyd.storage import EmbeddedStore


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
