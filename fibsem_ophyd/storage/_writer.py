"""The RunEngine callback that journals every document, then hands it to TiledWriter.

A failure to write to tiled never stops the experiment: it is logged, the
run's journal is kept, and `EmbeddedStore.recover()` replays it later.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ._journal import RunJournal

logger = logging.getLogger("fibsem_ophyd.storage")


def _run_uid_of(name: str, doc: dict, run_of_descriptor: dict[str, str]) -> str | None:
    if name == "start":
        return doc["uid"]
    if "run_start" in doc:
        return doc["run_start"]
    if name in ("event", "event_page", "stream_datum"):
        return run_of_descriptor.get(doc["descriptor"])
    if name in ("datum", "datum_page"):
        return None  # legacy assets carry no run uid; they go to every open run
    return None


class DurableTiledWriter:
    """Journal (optional) + TiledWriter with default batching, for one tiled client."""

    def __init__(
        self,
        client: Any,
        journal_dir: Path | None,
        fsync_every_document: bool = False,
    ):
        from bluesky_tiled_plugins import TiledWriter

        self._writer = TiledWriter(client)
        self._journal_dir = journal_dir
        self._fsync = fsync_every_document
        self._journals: dict[str, RunJournal] = {}
        self._failed: set[str] = set()
        self._run_of_descriptor: dict[str, str] = {}

    def __call__(self, name: str, doc: dict) -> None:
        run_uid = _run_uid_of(name, doc, self._run_of_descriptor)
        runs = [run_uid] if run_uid is not None else list(self._journals)
        if name == "start" and self._journal_dir is not None:
            self._journals[doc["uid"]] = RunJournal(self._journal_dir, doc["uid"], self._fsync)
        if name == "descriptor":
            self._run_of_descriptor[doc["uid"]] = doc["run_start"]
        for uid in runs:
            if uid in self._journals:
                self._journals[uid].append(name, doc)
        if not runs or any(uid not in self._failed for uid in runs):
            self._write(name, doc, runs)
        if name == "stop":
            self._finish(doc["run_start"])

    def _write(self, name: str, doc: dict, runs: list[str]) -> None:
        try:
            self._writer(name, doc)
        except Exception:
            logger.exception("tiled write of %s failed; run %s kept in journal", name, runs)
            self._failed.update(runs)

    def _finish(self, run_uid: str) -> None:
        journal = self._journals.pop(run_uid, None)
        self._run_of_descriptor = {d: r for d, r in self._run_of_descriptor.items() if r != run_uid}
        if run_uid in self._failed:
            self._failed.discard(run_uid)
            if journal is not None:
                journal.close()
                logger.warning("run %s is not in tiled yet: recover() will replay it", run_uid)
        elif journal is not None:
            journal.discard()

    def close(self) -> None:
        """Close open journals (their runs stay pending for recovery)."""
        for journal in self._journals.values():
            journal.close()
        self._journals.clear()
