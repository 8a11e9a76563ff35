"""Durability: a run whose process is killed keeps the frames it had already taken."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import h5py
import numpy as np
from event_model import DocumentNames, schema_validators

from fibsem_ophyd.storage import EmbeddedStore, read_images, recent_runs
from fibsem_ophyd.storage._journal import RunJournal, dumps, pending_journals, read_journal
from fibsem_ophyd.storage._recover import KILLED_REASON, synthetic_stop

HELPER = Path(__file__).with_name("killed_run.py")
ROOT = Path(__file__).resolve().parents[2]


def _run_until_killed(store: EmbeddedStore, events_before_kill: int) -> tuple[str, int]:
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    child = subprocess.Popen(
        [sys.executable, str(HELPER), str(store.settings.data_dir), "500"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    uid, seen = "", 0
    try:
        assert child.stdout is not None
        for line in child.stdout:
            word, value = line.split()
            if word == "start":
                uid = value
            elif word == "event":
                seen = int(value)
                if seen >= events_before_kill:
                    break
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL and uid
    return uid, seen


def test_killed_run_is_recovered_with_its_frames(store: EmbeddedStore) -> None:
    uid, seen = _run_until_killed(store, events_before_kill=4)
    (journal,) = pending_journals(store.settings.journal_dir)
    docs = read_journal(journal)
    assert docs[0][0] == "start" and all(name != "stop" for name, _ in docs)
    resource = next(d for n, d in docs if n == "stream_resource" and d["data_key"] == "det")
    with h5py.File(urlparse(resource["uri"]).path, "r", swmr=True) as file:
        on_disk = file[resource["parameters"]["dataset"]][()]
    assert len(on_disk) >= seen

    assert store.recover() == [uid]
    client = store.client()
    run = read_images(client, uid)
    assert run.stop is not None
    assert run.stop["exit_status"] == "abort" and run.stop["reason"] == KILLED_REASON
    assert run.start["site"] == "lamella-killed"
    # every frame the detector flushed is readable, not only those with documents
    assert run.images["det"].shape[0] >= seen
    np.testing.assert_array_equal(run.images["det"][:, 0], on_disk[: len(run.images["det"])])
    assert len(on_disk) - run.images["det"].shape[0] <= 1  # at most a frame half written
    assert len(run.readings["seq_num"]) == run.images["det"].shape[0]
    assert client[uid]["primary"].read()["det"].shape[0] == run.images["det"].shape[0]
    assert list(pending_journals(store.settings.journal_dir)) == []
    assert (store.settings.journal_dir / "recovered" / journal.name).exists()
    row = recent_runs(client, limit=1)[0]
    assert row.uid == uid and row.exit_status == "abort" and row.num_events >= seen
    assert store.recover() == []  # idempotent


def test_live_journal_is_not_recovered(tmp_path: Path) -> None:
    journal = RunJournal(tmp_path, "run-1")
    journal.append("start", {"uid": "run-1", "time": 0.0})
    assert list(pending_journals(tmp_path)) == []  # its writer is alive
    journal.close()
    assert list(pending_journals(tmp_path)) == [journal.path]


def test_journal_encodes_numpy_and_drops_a_torn_line(tmp_path: Path) -> None:
    line = dumps("event", {"data": {"a": np.float32(1.5), "b": np.arange(3), "c": np.int64(2)}})
    path = tmp_path / "run.jsonl"
    path.write_text(line + "\n" + line[: len(line) // 2])  # killed mid-write
    ((name, doc),) = read_journal(path)
    assert name == "event" and doc["data"] == {"a": 1.5, "b": [0, 1, 2], "c": 2}


def test_synthetic_stop_validates() -> None:
    docs = [
        ("start", {"uid": "u1", "time": 1.0}),
        ("descriptor", {"uid": "d1", "name": "primary", "run_start": "u1"}),
        ("event", {"descriptor": "d1", "seq_num": 1}),
        ("event_page", {"descriptor": "d1", "seq_num": [2, 3]}),
    ]
    stop = synthetic_stop(docs)
    schema_validators[DocumentNames.stop].validate(stop)
    assert stop["num_events"] == {"primary": 3} and stop["exit_status"] == "abort"


def test_run_survives_a_dead_server_and_is_replayed(
    store: EmbeddedStore, RE, detector_for, monkeypatch
) -> None:
    import stamina
    from bluesky.plans import count

    stamina.set_testing(True, attempts=1)  # do not wait out tiled's retries
    try:
        det = detector_for(store)
        RE.subscribe(store.writer())
        store.stop()  # the catalog goes away before the run
        (uid,) = RE(count([det], num=2))  # the experiment must not notice
        store.flush()  # the writer gives up on tiled and keeps the journal
        assert [p.stem for p in pending_journals(store.settings.journal_dir)] == [uid]
    finally:
        stamina.set_testing(False)
    store.start()  # replays pending journals
    run = read_images(store.client(), uid)
    assert run.stop is not None and run.stop["exit_status"] == "success"
    assert run.images["det"].shape == (2, 1, 240, 320)


def test_frames_without_documents_are_recovered(
    shared_store: EmbeddedStore, RE, det, tmp_path: Path
) -> None:
    """Killed after the detector flushed frame 3 but before its documents were emitted."""
    from bluesky.plans import count

    docs: list[tuple[str, dict]] = []
    RE.subscribe(lambda name, doc: docs.append((name, doc)))
    RE(count([det], num=3))
    last_event = max(i for i, (name, _) in enumerate(docs) if name == "event")
    first_of_frame_3 = min(
        i
        for i, (name, doc) in enumerate(docs)
        if name == "stream_datum" and doc["indices"]["start"] == 2
    )
    journaled = docs[:first_of_frame_3]
    assert last_event > first_of_frame_3  # frame 3's documents are what we drop
    journal_dir = tmp_path / "journal"
    journal_dir.mkdir()
    uid = docs[0][1]["uid"]
    (journal_dir / f"{uid}.jsonl").write_text("".join(dumps(n, d) + "\n" for n, d in journaled))

    from fibsem_ophyd.storage._recover import recover

    assert recover(shared_store.client().include_data_sources(), journal_dir) == [uid]
    run = read_images(shared_store.client(), uid)
    assert run.images["det"].shape[0] == 3 and run.readings["det-sum"].shape[0] == 3
    assert run.stop is not None and run.stop["num_events"] == {"primary": 3}
    assert len(run.readings["seq_num"]) == 3  # the missing event was rebuilt
    dataset = shared_store.client()[uid]["primary"].read()  # the xarray view
    assert dataset["det"].shape[0] == 3
