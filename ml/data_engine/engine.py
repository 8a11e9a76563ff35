"""The data engine: a RunEngine callback that adds every finished run to a dataset.

    engine = DataEngine("datasets/live")
    RE.subscribe(engine)
    ...
    engine.flush()  # wait until every run stopped so far is in the dataset

Documents are filed per run in the RunEngine's thread (cheap: no I/O). A background
thread writes each frame (and mask) as its event arrives, read from the detector's HDF5
file (``_stream``); when the run's stop document arrives, it writes what is left: the
keypoints, the supervisor's answers and the provenance (``ml.data_engine._dataset``).
The RunEngine never waits for it. A run that cannot be added is logged, its files
removed, and reported by `flush()`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from pathlib import Path
from typing import Any

from event_model import DocumentRouter

from ._build import RunAdded, add_run
from ._dataset import Dataset
from ._frames import FileFrames, FrameReader
from ._run_docs import RunDocuments
from ._stream import FrameJob, FrameStreamer

logger = logging.getLogger("ml.data_engine")


class DataEngineError(RuntimeError):
    """Runs that could not be added to the dataset (uid: reason)."""


class DataEngine(DocumentRouter):
    """Subscribe to a RunEngine; every run that stops is added to `dataset_dir`. With
    `stream` (the default) frames are written while the run goes on; `reader` is where
    frames come from (default: the detectors' HDF5 files)."""

    def __init__(
        self, dataset_dir: str | Path, reader: FrameReader | None = None, stream: bool = True
    ) -> None:
        super().__init__()
        self.dataset = Dataset(dataset_dir)
        self._reader = reader or FileFrames()
        # Frames are written as they come (`stream`) when read from the detectors' files;
        # otherwise all at the stop.
        self._streamer = (
            FrameStreamer(self.dataset, self._reader)
            if stream and isinstance(self._reader, FileFrames)
            else None
        )
        self._runs: dict[str, RunDocuments] = {}
        self._run_of_descriptor: dict[str, str] = {}
        self._queue: queue.Queue[RunDocuments | FrameJob | None] = queue.Queue()
        self._lock = threading.Condition()
        self._pending = 0
        self.added: list[RunAdded] = []
        self.seconds_after_stop: dict[str, float] = {}
        self.failures: dict[str, str] = {}
        self._reported: set[str] = set()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="ml-data-engine", daemon=True)
        self._thread.start()

    # -- RunEngine thread: file documents --------------------------------------------
    def __call__(self, name: str, doc: dict, validate: bool = False) -> tuple[str, dict]:
        # The experiment never stops for the data engine: a document it cannot file is
        # logged and its run reported by flush().
        try:
            return super().__call__(name, doc, validate)
        except Exception as exc:
            run = doc.get("run_start") or self._run_of_descriptor.get(doc.get("descriptor", ""))
            logger.exception("data engine: %s document of run %s not filed", name, run)
            self.failures[str(run or doc.get("uid", "?"))] = f"{type(exc).__name__}: {exc}"
            return name, doc

    def start(self, doc: dict[str, Any]) -> None:
        self._runs[doc["uid"]] = RunDocuments(start=doc)

    def descriptor(self, doc: dict[str, Any]) -> None:
        self._run_of_descriptor[doc["uid"]] = doc["run_start"]
        self._file(doc["run_start"], "descriptor", doc)

    def event(self, doc: dict[str, Any]) -> None:
        run = self._file(self._run_of_descriptor.get(doc["descriptor"]), "event", doc)
        if run is not None and self._streamer is not None and not self._closed:
            for job in self._streamer.jobs(run, doc):
                self._queue.put(job)

    def stream_resource(self, doc: dict[str, Any]) -> None:
        self._file(doc["run_start"], "stream_resource", doc)

    def stream_datum(self, doc: dict[str, Any]) -> None:
        run = self._file(self._run_of_descriptor.get(doc["descriptor"]), "stream_datum", doc)
        if run is not None and self._streamer is not None:
            self._streamer.locate(run, doc)

    def stop(self, doc: dict[str, Any]) -> None:
        run = self._runs.pop(doc["run_start"], None)
        if run is None:
            return
        run.add("stop", doc)
        if self._streamer is not None:
            self._streamer.forget(run)
        self._run_of_descriptor = {d: r for d, r in self._run_of_descriptor.items() if r != run.uid}
        if self._closed:
            logger.warning("run %s stopped after the data engine was closed: not added", run.uid)
            return
        with self._lock:
            self._pending += 1
        self._queue.put(run)

    def _file(self, run_uid: str | None, name: str, doc: dict[str, Any]) -> RunDocuments | None:
        run = self._runs.get(run_uid) if run_uid is not None else None
        if run is not None:
            run.add(name, doc)
        return run

    # -- worker thread ------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if isinstance(item, FrameJob):
                if self._streamer is not None:
                    self._streamer.write(item)
                continue
            run = item
            try:
                self._add(run)
            except Exception as exc:
                logger.exception("run %s not added to the dataset %s", run.uid, self.dataset.root)
                self.failures[run.uid] = f"{type(exc).__name__}: {exc}"
                if self._streamer is not None:
                    self._streamer.discard(run.uid)
                    self._streamer.done(run.uid)
            finally:
                with self._lock:
                    self._pending -= 1
                    self._lock.notify_all()

    def _add(self, run: RunDocuments) -> None:
        images: frozenset[str] = frozenset()
        labels: frozenset[str] = frozenset()
        if self._streamer is not None:
            problem = self._streamer.failed.get(run.uid)
            if problem is not None:
                raise RuntimeError(f"a frame could not be written: {problem}")
            images, labels = self._streamer.written(run.uid)
        self.added.append(add_run(run, self._reader, self.dataset, images, labels))
        if self._streamer is not None:
            self._streamer.done(run.uid)
        # From the stop document's creation (wall clock) to the run on disk.
        stop_time = float((run.stop or {}).get("time", "nan"))
        self.seconds_after_stop[run.uid] = time.time() - stop_time

    @property
    def pending(self) -> int:
        """Runs stopped and not yet added (or failed)."""
        return self._pending

    def flush(self, timeout_s: float = 60.0) -> list[RunAdded]:
        """Wait until every run stopped so far is in the dataset; returns what was added.
        Raises TimeoutError after `timeout_s`, DataEngineError naming runs that failed
        (each is reported once)."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"{self._pending} run(s) not in the dataset {self.dataset.root} "
                        f"within {timeout_s} s"
                    )
                self._lock.wait(left)
        new = {u: r for u, r in self.failures.items() if u not in self._reported}
        self._reported.update(new)
        if new:
            lines = "; ".join(f"{u}: {r}" for u, r in new.items())
            raise DataEngineError(f"run(s) not added to {self.dataset.root}: {lines}")
        return list(self.added)

    def close(self, timeout_s: float = 60.0) -> None:
        """Finish the runs already stopped, then end the worker thread."""
        try:
            self.flush(timeout_s)
        finally:
            self._closed = True
            self._queue.put(None)
            self._thread.join(timeout_s)
