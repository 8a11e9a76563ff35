"""The README's tour (`set_imaging`, `stable_move`, `acquire_image`, milling) on fibsem's
DemoMicroscope through the bridge, with a real RunEngine and the embedded tiled store.

The README's own code block runs against the twin (tests/test_readme.py). Two of its steps
need the twin: `m.sites` (the twin's sample comes with lamella sites) and `mill_lamella`,
whose alignment and milled-material checks need real images (fibsem's Demo returns
noise). Here the same steps run on the bridge with a pose of our own and `run_milling`
of the protocol's first rough-milling stage, its image checks off.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import bluesky.plan_stubs as bps
import pytest

from fibsem_ophyd.config import config_from_dict
from fibsem_ophyd.milling import default_protocol, milling_stages
from fibsem_ophyd.storage import read_images, recent_runs
from plans import acquire_image, run_milling, set_imaging, stable_move
from profiles.session import Session, start_session

from .conftest import DEMO_CONFIG


@pytest.fixture
def session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    pytest.importorskip("fibsem")
    monkeypatch.setenv("FIBSEM_SIM_NO_DELAY", "1")
    s = start_session(config_from_dict(DEMO_CONFIG), data_dir=tmp_path / "data", progress=False)
    yield s
    s.close()
    s.microscope.backend.close()


def test_readme_tour_on_openfibsem_demo_lands_in_tiled(session: Session) -> None:
    from fibsem.structures import BeamType

    m, RE = session.microscope, session.RE
    fibsem = m.backend.microscope
    here = m.backend.stage.position()
    pose = here.model_copy(update={"x_m": here.x_m + 20e-6})
    RE(bps.mv(m.stage, pose))
    assert fibsem.get_stage_position().x == pytest.approx(pose.x_m, abs=1e-9)

    RE(set_imaging(m, "ion", hfw_m=80e-6, dwell_time_s=2e-6))
    assert fibsem.get("hfw", BeamType.ION) == pytest.approx(80e-6)
    assert fibsem.get("dwell_time", BeamType.ION) == pytest.approx(2e-6)

    before = fibsem.get_stage_position()
    RE(stable_move(m, dx_m=5e-6, dy_m=0.0, beam="electron"))
    after = fibsem.get_stage_position()
    # the feature 5 µm right of the centre comes to the centre: the specimen moves left
    assert after.x - before.x == pytest.approx(-5e-6, abs=1e-9)
    assert after.y == pytest.approx(before.y, abs=1e-9)

    uid = RE(acquire_image(m, "ion", md={"site": "lamella_01"})).run_start_uids[0]

    rough = milling_stages(default_protocol("on-grid"), "rough")[0]
    rough = rough.model_copy(
        update={
            "verification": rough.verification.model_copy(update={"enabled": False}),
            "alignment": None,
        }
    )
    mill_uid = RE(run_milling(m, [rough])).run_start_uids[0]
    assert ("milling", "run") in m.backend.calls.log

    catalog = session.catalog()
    run = read_images(catalog, uid)
    height, width = m.backend.ion.resolution_y_px, m.backend.ion.resolution_x_px
    assert run.images[m.fib.name].shape == (1, 1, height, width)
    assert run.start["site"] == "lamella_01"
    fingerprint = run.start["fingerprint"]
    assert fingerprint["manufacturer"] == "OpenFIBSEM-Demo"
    assert fingerprint["model"] == str(fibsem.system.info.model)
    assert run.configuration[m.fib.name]["data"][f"{m.ion_beam.name}-hfw_m"] == pytest.approx(80e-6)

    # fibsem's record of the frame came through the event into tiled
    (frame_json,) = run.readings[f"{m.fib.name}-frame_metadata"]
    frame = json.loads(frame_json)
    assert frame["source"] == "fibsem"
    assert frame["reported"]["image"]["hfw"] == pytest.approx(80e-6)
    assert frame["reported"]["image"]["dwell_time"] == pytest.approx(2e-6)
    assert frame["pixel_size_x_m"] == pytest.approx(80e-6 / width)

    runs = {row.uid: row for row in recent_runs(catalog, limit=50)}
    assert set(runs) == {uid, mill_uid}
    assert {row.exit_status for row in runs.values()} == {"success"}
    assert runs[mill_uid].plan_name == "run_milling"
    milled = read_images(catalog, mill_uid, stream="milling")
    assert milled.start["fingerprint"] == fingerprint
