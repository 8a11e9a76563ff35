"""Fixtures: a real tiled server on 127.0.0.1, a real RunEngine, a real HDF5 detector.

Every test that uses a store runs twice: on the default SQLite catalog and on a
PostgreSQL catalog (a throw-away cluster started here; skipped when PostgreSQL is not
installed)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from bluesky import RunEngine
from ophyd_async.core import init_devices
from ophyd_async.sim import SimBlobDetector

from fibsem_ophyd.storage import EmbeddedStore, StorageSettings
from tests.servers import PostgresServer, make_catalog_template, postgres_server

CATALOGS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """The cluster, and in it an empty tiled catalog that each test's database copies:
    the one `make test` started for all the suite's processes (tests/run_suite.py), else
    one of this session's own."""
    shared = PostgresServer.from_env()
    if shared is not None:
        yield shared
        return
    with postgres_server() as server:
        server.template = make_catalog_template(server, tmp_path_factory.mktemp("template"))
        yield server


def _settings(request: pytest.FixtureRequest, data_dir: Path) -> StorageSettings:
    """Store settings on the catalog of the test's parameter (a new database each)."""
    if request.param == "sqlite":
        return StorageSettings(data_dir=data_dir)
    server: PostgresServer = request.getfixturevalue("postgres")
    return StorageSettings(data_dir=data_dir, catalog_uri=server.new_database(server.template))


@pytest.fixture(scope="session", params=CATALOGS)
def shared_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EmbeddedStore]:
    """One server for the tests that only write and read runs (start-up takes seconds)."""
    store = EmbeddedStore(_settings(request, tmp_path_factory.mktemp("store")))
    try:
        store.start()
        yield store
    finally:
        store.stop()


@pytest.fixture(params=CATALOGS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EmbeddedStore]:
    """A server of its own, for tests that stop, restart or crash things."""
    store = EmbeddedStore(_settings(request, tmp_path / "data"))
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
