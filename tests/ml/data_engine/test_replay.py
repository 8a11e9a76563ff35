"""Replay: runs already in tiled (a real server on 127.0.0.1) become the same dataset
the live engine wrote; runs are chosen by uid or by a start-document query."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from fibsem_ophyd.supervision import Answer, AutoSupervisor, CallbackSupervisor
from ml.data_engine import DETECTIONS_CSV, SUPERVISION_CSV, DataEngine, replay
from ml.data_engine.cli import main
from ml.layout import IMAGES_DIR, KEYPOINTS_CSV, METADATA_CSV

from .conftest import SITE, csv_text, images_run, site_run

FILES = (METADATA_CSV, KEYPOINTS_CSV, DETECTIONS_CSV, SUPERVISION_CSV)


def test_replay_from_tiled_gives_the_same_dataset_as_live(
    RE, store_microscope, shared_store, tmp_path
):
    m = store_microscope
    engine = DataEngine(tmp_path / "live")
    RE.subscribe(engine)
    shared_store.subscribe(RE)
    m.supervisor.use(CallbackSupervisor(lambda q: Answer(action="move", dx_m=1e-6, dy_m=0.0)))
    md = {"lamella": SITE, "workflow_stage": "select", "experiment": "exp-R"}
    uids = list(RE(images_run(m, "electron", 3, md)).run_start_uids)
    uids += RE(site_run(m, "ion", md)).run_start_uids
    m.supervisor.use(AutoSupervisor())
    engine.close()
    shared_store.flush()

    added = replay(shared_store.client(), tmp_path / "replayed", uids)
    assert [(a.uid, a.written) for a in added] == [(u, True) for u in uids]
    assert added[1].corrected == 1
    live, replayed = tmp_path / "live", tmp_path / "replayed"
    for name in FILES:
        assert csv_text(replayed, name) == csv_text(live, name), name
    images = sorted(p.name for p in (live / IMAGES_DIR).iterdir())
    assert images == sorted(p.name for p in (replayed / IMAGES_DIR).iterdir())
    assert len(images) == 4
    for name in images:
        np.testing.assert_array_equal(
            tifffile.imread(replayed / IMAGES_DIR / name), tifffile.imread(live / IMAGES_DIR / name)
        )
    # Replaying again adds nothing twice.
    again = replay(shared_store.client(), replayed, uids)
    assert [a.written for a in again] == [False, False]
    assert csv_text(replayed, METADATA_CSV) == csv_text(live, METADATA_CSV)


def test_replay_by_query_and_from_the_command_line(
    RE, store_microscope, shared_store, tmp_path, capsys
):
    m = store_microscope
    shared_store.subscribe(RE)
    (wanted,) = RE(images_run(m, "ion", 1, {"lamella": SITE, "experiment": "exp-Q"})).run_start_uids
    RE(images_run(m, "ion", 1, {"lamella": SITE, "experiment": "other"}))
    shared_store.flush()

    added = replay(shared_store.client(), tmp_path / "query", where={"experiment": "exp-Q"})
    assert [a.uid for a in added] == [wanted]

    key_file = shared_store.settings.api_key_path
    argv = [
        "replay",
        "--uri",
        shared_store.uri,
        "--api-key-file",
        str(key_file),
        "--dataset",
        str(tmp_path / "cli"),
        "--uid",
        wanted[:8],
    ]
    assert main(argv) == 0
    assert f"{wanted}  added: 1 images" in capsys.readouterr().out
    assert csv_text(tmp_path / "cli", METADATA_CSV) == csv_text(tmp_path / "query", METADATA_CSV)


def test_unknown_run_uid_is_refused_before_anything_is_written(shared_store, tmp_path):
    with pytest.raises(KeyError, match="not in the catalog: no-such-run"):
        replay(shared_store.client(), tmp_path / "never", ["no-such-run"])
    assert not (tmp_path / "never").exists()


def test_an_open_run_named_for_replay_is_refused(shared_store, tmp_path):
    from bluesky_tiled_plugins import TiledWriter
    from event_model import compose_run

    start = compose_run(metadata={"lamella": SITE}).start_doc
    # never stopped: as a run still going (no journal left behind in the shared store)
    TiledWriter(shared_store.client())("start", start)
    with pytest.raises(ValueError, match=f"without a stop document.*{start['uid']}"):
        replay(shared_store.client(), tmp_path / "never", [start["uid"]])
    assert not (tmp_path / "never").exists()
