"""Runs written by a real RunEngine and HDF5 detector read back through tiled and databroker."""

from __future__ import annotations

from urllib.parse import urlparse

import bluesky.plan_stubs as bps
import h5py
import numpy as np
import pytest
from bluesky import RunEngine
from bluesky.plans import count
from event_model import DocumentNames, schema_validators
from ophyd_async.sim import SimBlobDetector

from fibsem_ophyd.storage import EmbeddedStore, format_runs, read_images, recent_runs

STAGE = {"x_m": 1.5e-3, "y_m": -2.0e-4, "z_m": 4.0e-3, "r_deg": 180.0, "t_deg": 18.0}


@pytest.fixture
def docs(RE: RunEngine, shared_store: EmbeddedStore) -> list[tuple[str, dict]]:
    """Every document of the test's runs; the store is subscribed too."""
    collected: list[tuple[str, dict]] = []
    RE.subscribe(lambda name, doc: collected.append((name, doc)))
    shared_store.subscribe(RE)
    return collected


def _frames_on_disk(docs: list[tuple[str, dict]], data_key: str) -> np.ndarray:
    (resource,) = [d for n, d in docs if n == "stream_resource" and d["data_key"] == data_key]
    with h5py.File(urlparse(resource["uri"]).path, "r", swmr=True) as file:
        return file[resource["parameters"]["dataset"]][()]


def test_round_trip_frames_and_metadata(
    RE: RunEngine, det: SimBlobDetector, shared_store: EmbeddedStore, docs: list
) -> None:
    (uid,) = RE(count([det], num=3), site="lamella-07", stage_position=STAGE, operator="ana")
    shared_store.flush()
    run = read_images(shared_store.client(), uid)
    on_disk = _frames_on_disk(docs, "det")
    assert on_disk.shape == (3, 240, 320)
    assert run.images["det"].shape == (3, 1, 240, 320)
    np.testing.assert_array_equal(run.images["det"][:, 0], on_disk)
    np.testing.assert_array_equal(run.readings["det-sum"], _frames_on_disk(docs, "det-sum"))
    start = next(d for n, d in docs if n == "start")
    assert run.start["site"] == "lamella-07" and run.start["operator"] == "ana"
    assert run.start["stage_position"] == STAGE and run.start["uid"] == start["uid"]
    assert run.stop is not None and run.stop["num_events"] == {"primary": 3}
    assert set(run.configuration) == {"det"}
    assert run.data_keys["det"]["shape"] == [1, 240, 320]
    assert len(run.readings["time"]) == 3
    assert list(shared_store.settings.journal_dir.glob("*.jsonl")) == []  # written: no journal


def test_every_document_validates_against_event_model(
    RE: RunEngine, det: SimBlobDetector, docs: list
) -> None:
    RE(count([det], num=2), site="lamella-01")
    assert {n for n, _ in docs} >= {"start", "descriptor", "stream_resource", "stream_datum"}
    for name, doc in docs:
        schema_validators[DocumentNames[name]].validate(doc)


def test_databroker_reads_the_same_runs(
    RE: RunEngine, det: SimBlobDetector, shared_store: EmbeddedStore, docs: list
) -> None:
    from databroker.client import CatalogOfBlueskyRuns

    (uid,) = RE(count([det], num=2))
    shared_store.flush()
    catalog = shared_store.client()
    assert isinstance(catalog, CatalogOfBlueskyRuns)
    run = catalog[uid]
    assert run.start["uid"] == uid and run.stop["exit_status"] == "success"
    dataset = run["primary"].read()
    np.testing.assert_array_equal(dataset["det"].values[:, 0], _frames_on_disk(docs, "det"))
    # databroker's v2 API, including the document stream (v1 needs `humanize`, not installed)
    try:
        v2 = catalog.v2[uid]
        names = [name for name, _ in v2.documents()]
        assert names[0] == "start" and names[-1] == "stop" and "descriptor" in names
        assert v2.metadata["start"]["uid"] == uid
    finally:
        catalog.v3  # noqa: B018 (`.v2` switched the process-wide default; switch it back)


def test_recent_runs_rows_and_table(
    RE: RunEngine, det: SimBlobDetector, shared_store: EmbeddedStore, docs: list
) -> None:
    (ok,) = RE(count([det], num=2), site="lamella-02", stage_position=STAGE)

    def failing_plan():
        yield from bps.open_run(md={"plan_name": "mill_lamella", "lamella": "lamella-03"})
        raise RuntimeError("ion beam blanked")

    with pytest.raises(RuntimeError, match="ion beam blanked"):
        RE(failing_plan())
    failed = next(d for n, d in reversed(docs) if n == "start")["uid"]
    shared_store.flush()
    rows = recent_runs(shared_store.client(), limit=2)
    assert [row.uid for row in rows] == [failed, ok]  # newest first
    assert rows[0].plan_name == "mill_lamella" and rows[0].site == "lamella-03"
    assert rows[0].exit_status == "fail" and "ion beam blanked" in rows[0].reason
    assert rows[1].site == "lamella-02" and rows[1].stage_position == STAGE
    assert rows[1].exit_status == "success" and rows[1].num_events == 2
    table = format_runs(rows)
    assert "lamella-02" in table and "ion beam blanked" in table and "x_m=0.0015" in table
    assert table.splitlines()[0].split()[:3] == ["time", "uid", "plan"]
