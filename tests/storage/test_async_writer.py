"""The writer journals in the RunEngine's thread and writes to tiled in the background."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import bluesky.plan_stubs as bps
import pytest
from bluesky import RunEngine
from bluesky.plans import count
from ophyd_async.sim import SimBlobDetector

from fibsem_ophyd.storage import DurableTiledWriter, EmbeddedStore, read_images
from fibsem_ophyd.storage._journal import RunJournal, pending_journals, read_journal
from fibsem_ophyd.storage._sharing import stop_server
from fibsem_ophyd.storage._worker import OrderedWorker

HELPER = Path(__file__).with_name("killed_run.py")
ROOT = Path(__file__).resolve().parents[2]


class Recorder:
    """Stands in for TiledWriter: records documents, slowly, or fails on one of them."""

    def __init__(self, fail_on: str | None = None):
        self.docs: list[tuple[str, dict]] = []
        self.fail_on = fail_on
        self.thread_names: set[str] = set()

    def __call__(self, name: str, doc: dict) -> None:
        self.thread_names.add(threading.current_thread().name)
        threading.Event().wait(0.001)  # slower than the RunEngine: the queue fills
        if name == self.fail_on:
            raise ConnectionError("tiled is down")
        self.docs.append((name, doc))


def _writer(store: EmbeddedStore, recorder: Recorder, journal_dir: Path) -> DurableTiledWriter:
    writer = DurableTiledWriter(store.client().include_data_sources(), journal_dir)
    writer._writer = recorder  # the tiled side only; journal and queue are the real ones
    return writer


def test_documents_reach_the_writer_in_order_off_the_runengine_thread(
    RE: RunEngine, det: SimBlobDetector, shared_store: EmbeddedStore, tmp_path: Path
) -> None:
    emitted: list[tuple[str, dict]] = []
    recorder = Recorder()
    writer = _writer(shared_store, recorder, tmp_path)
    RE.subscribe(writer)
    RE.subscribe(lambda name, doc: emitted.append((name, doc)))
    for _ in range(3):
        RE(count([det], num=4))
    assert writer.flush(timeout_s=60)
    assert writer.pending == 0
    assert [(n, d["uid"]) for n, d in recorder.docs] == [(n, d["uid"]) for n, d in emitted]
    assert recorder.thread_names == {"fibsem-ophyd-tiled-writer"}
    assert list(tmp_path.glob("*.jsonl")) == []  # every run reached "tiled": no journal
    writer.close()


def test_back_to_back_runs_are_all_in_tiled_after_flush(
    RE: RunEngine, det: SimBlobDetector, shared_store: EmbeddedStore
) -> None:
    shared_store.subscribe(RE)
    uids = [RE(count([det], num=n))[0] for n in (1, 2, 1, 3, 1)]
    shared_store.flush(timeout_s=120)
    client = shared_store.client()
    for uid, n in zip(uids, (1, 2, 1, 3, 1), strict=True):
        run = read_images(client, uid)
        assert run.stop is not None and run.stop["exit_status"] == "success"
        assert run.images["det"].shape[0] == n
    assert list(shared_store.settings.journal_dir.glob("*.jsonl")) == []


def test_worker_error_keeps_the_journal_and_spares_the_runengine(
    RE: RunEngine, det: SimBlobDetector, shared_store: EmbeddedStore, tmp_path: Path
) -> None:
    recorder = Recorder(fail_on="event")
    writer = _writer(shared_store, recorder, tmp_path)
    RE.subscribe(writer)
    (uid,) = RE(count([det], num=3))  # no exception reaches the experiment
    assert writer.flush(timeout_s=60)
    (journal,) = pending_journals(tmp_path)
    assert journal.stem == uid
    names = [name for name, _ in read_journal(journal)]
    assert names[0] == "start" and names[-1] == "stop" and names.count("event") == 3
    assert [n for n, _ in recorder.docs][-1] != "stop"  # nothing after the failure
    writer.close()


def test_tiled_down_mid_run_is_replayed_whole(store: EmbeddedStore, RE, detector_for) -> None:
    import stamina

    det = detector_for(store)
    store.subscribe(RE)
    shots: list[int] = []

    def shot_then_kill_tiled(detectors):
        shots.append(1)
        if len(shots) == 3:
            store.flush()  # the run's start is in tiled: a partial copy
            assert store._server is not None
            stop_server(store.settings, store._server)
        yield from bps.one_shot(detectors)

    stamina.set_testing(True, attempts=1)  # do not wait out tiled's retries
    try:
        (uid,) = RE(count([det], num=4, per_shot=shot_then_kill_tiled))
        store.flush()
    finally:
        stamina.set_testing(False)
    assert [p.stem for p in pending_journals(store.settings.journal_dir)] == [uid]
    store.stop()
    assert store.start().recover() == []  # start() replayed it already
    run = read_images(store.client(), uid)
    assert run.stop is not None and run.stop["exit_status"] == "success"
    assert run.images["det"].shape[0] == 4


def test_interpreter_exit_drains_the_queue(store: EmbeddedStore) -> None:
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    child = subprocess.run(
        [sys.executable, str(HELPER), str(store.settings.data_dir), "3"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert child.returncode == 0, child.stderr
    uid = next(line.split()[1] for line in child.stdout.splitlines() if line.startswith("start"))
    assert list(pending_journals(store.settings.journal_dir)) == []
    run = read_images(store.client(), uid)
    assert run.stop is not None and run.stop["exit_status"] == "success"
    assert run.images["det"].shape[0] == 3


def test_bounded_queue_holds_back_the_producer() -> None:
    worker = OrderedWorker("test-worker", maxsize=2)
    release, done = threading.Event(), []
    worker.submit(release.wait)  # the thread is busy with this one
    worker.submit(lambda: done.append(1))
    worker.submit(lambda: done.append(2))  # the queue is full now
    producer = threading.Thread(target=worker.submit, args=(lambda: done.append(3),))
    producer.start()
    for _ in range(1000):  # until the producer is inside submit()
        if worker.pending == 4:
            break
        threading.Event().wait(0.01)
    assert worker.pending == 4 and producer.is_alive()  # held back by the full queue
    assert not worker.flush(timeout_s=0)
    release.set()
    producer.join()
    assert worker.stop(timeout_s=60) and done == [1, 2, 3]
    worker.submit(lambda: done.append(4))  # a stopped worker starts again
    assert worker.flush(timeout_s=60) and done == [1, 2, 3, 4]
    assert worker.stop(timeout_s=60)


@pytest.mark.parametrize("timeout_s", [0.0, 60.0])
def test_store_flush_without_writers_returns(shared_store: EmbeddedStore, timeout_s) -> None:
    EmbeddedStore(shared_store.settings).flush(timeout_s=timeout_s)


def test_wait_for_run_returns_when_a_reader_gets_the_whole_run(
    RE: RunEngine, det: SimBlobDetector, shared_store: EmbeddedStore
) -> None:
    shared_store.subscribe(RE)
    stops: dict[str, float] = {}
    RE.subscribe(lambda name, doc: stops.update({doc["run_start"]: doc["time"]}), "stop")
    uids = [RE(count([det], num=n))[0] for n in (2, 1)]
    for uid, n in zip(uids, (2, 1), strict=True):  # no flush: only this run is waited for
        written = shared_store.wait_for_run(uid, timeout_s=120)
        assert written.uid == uid and written.in_tiled
        assert written.time >= stops[uid]
        run = read_images(shared_store.client(), uid)
        assert run.stop is not None and run.images["det"].shape[0] == n
    with pytest.raises(TimeoutError, match="no writer of this store has seen it"):
        shared_store.wait_for_run("not-a-run-uid", timeout_s=60)


def test_wait_for_run_reports_a_failed_write_and_a_slow_one(
    RE: RunEngine, det: SimBlobDetector, shared_store: EmbeddedStore, tmp_path: Path
) -> None:
    for name in ("failing", "slow"):
        (tmp_path / name).mkdir()
    failing = _writer(shared_store, Recorder(fail_on="event"), tmp_path / "failing")
    token = RE.subscribe(failing)
    (uid,) = RE(count([det], num=2))
    written = failing.wait_for_run(uid, timeout_s=60)
    assert not written.in_tiled  # its journal waits for recover()
    assert [p.stem for p in pending_journals(tmp_path / "failing")] == [uid]
    RE.unsubscribe(token)
    failing.close()

    release = threading.Event()
    blocked = Recorder()
    slow = _writer(shared_store, blocked, tmp_path / "slow")
    slow._writer = lambda name, doc: (release.wait(60), blocked(name, doc))
    RE.subscribe(slow)
    (uid,) = RE(count([det], num=1))
    assert slow.has_seen(uid)
    with pytest.raises(TimeoutError, match=f"run {uid} not written to tiled within 0.2 s"):
        slow.wait_for_run(uid, timeout_s=0.2)
    release.set()
    assert slow.wait_for_run(uid, timeout_s=60).in_tiled
    assert [n for n, _ in blocked.docs][-1] == "stop"
    slow.close()


def test_a_failed_run_is_pending_for_recovery_when_wait_for_run_returns(
    RE: RunEngine,
    det: SimBlobDetector,
    shared_store: EmbeddedStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a slow journal close (a loaded disk) must not let wait_for_run report the failure
    # while the journal is still held: a recover() right after it would miss the run
    close = RunJournal.close

    def slow_close(self: RunJournal) -> None:
        time.sleep(0.5)
        close(self)

    monkeypatch.setattr(RunJournal, "close", slow_close)
    failing = _writer(shared_store, Recorder(fail_on="event"), tmp_path)
    token = RE.subscribe(failing)
    (uid,) = RE(count([det], num=1))
    assert not failing.wait_for_run(uid, timeout_s=60).in_tiled
    assert [p.stem for p in pending_journals(tmp_path)] == [uid]
    RE.unsubscribe(token)
    failing.close()
