"""`fibsem-ophyd log` fills the stage column of milling runs: the milling stages a run
milled (`run_milling`'s start document), with the workflow stage when a lamella
workflow ran it; the stage position has its own column."""

from __future__ import annotations

import pytest
from bluesky import RunEngine

from fibsem_ophyd.milling import default_protocol, milling_stages
from fibsem_ophyd.storage import EmbeddedStore, format_runs, recent_runs
from plans.milling import MillingCurrentError, run_milling


def _column(table: str, name: str, row: int) -> str:
    """The cell of column `name` in data row `row` (columns are left-aligned)."""
    header, *lines = table.splitlines()
    start = header.index(name)
    end = start + len(name)
    while end < len(header) and header[end] == " ":
        end += 1
    return lines[row][start:end].strip()


def test_log_names_the_stages_of_milling_runs(
    RE: RunEngine, microscope, shared_store: EmbeddedStore
) -> None:
    shared_store.subscribe(RE)
    m = microscope
    # A current the readback does not confirm fails each run before anything is drawn:
    # a cheap milling run, and a failed mill is one a user looks up in the log.
    m.backend.world.faults.ion_current_readback_factor = 0.5
    rough = milling_stages(default_protocol(), "rough")[:1]
    with pytest.raises(MillingCurrentError):
        RE(run_milling(m, rough, md={"lamella": "lamella_01"}))
    with pytest.raises(MillingCurrentError):
        RE(run_milling(m, rough, md={"lamella": "lamella_02", "workflow_stage": "polish"}))
    m.backend.world.faults.ion_current_readback_factor = 1.0
    shared_store.flush()

    workflow_run, plain_run = recent_runs(shared_store.client(), limit=2)
    name = rough[0].name
    assert plain_run.plan_name == "run_milling" and plain_run.stage == name
    assert workflow_run.stage == ("polish" if name == "polish" else f"polish ({name})")
    table = format_runs([workflow_run, plain_run])
    assert _column(table, "stage", 1) == name
    assert _column(table, "site", 0) == "lamella_02"
    assert _column(table, "status", 1) == "fail"
