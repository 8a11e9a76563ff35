"""Replay: runs already in a tiled catalog into a dataset, with the same code as the
live engine (documents from ``run.documents()``, frames through tiled), so old
experiments become data.

    from tiled.client import from_uri
    catalog = from_uri("http://127.0.0.1:8000/api/v1", api_key=...)
    replay(catalog, "datasets/old", uids=["7c13f7ee"])          # some runs
    replay(catalog, "datasets/old", where={"lamella": "lamella_01"})  # a query
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ._build import RunAdded, add_run
from ._dataset import Dataset
from ._frames import TiledFrames
from ._run_docs import RunDocuments

logger = logging.getLogger("ml.data_engine")


def connect(uri: str, api_key: str | None = None) -> Any:
    """A tiled client of the catalog at `uri` (…/api/v1)."""
    from tiled.client import from_uri

    return from_uri(uri, api_key=api_key)


def _sql(catalog: Any) -> Any:
    return catalog.v3 if getattr(catalog, "is_sql", False) else catalog


def select_runs(
    catalog: Any, uids: Iterable[str] | None = None, where: Mapping[str, Any] | None = None
) -> list[Any]:
    """The runs named by `uids` (full or partial) and/or matching every start-document
    `where` key == value; all runs when neither is given. An unknown uid is an error,
    raised before any run is read."""
    from tiled.queries import Key

    catalog = _sql(catalog)
    if where:
        for key, value in where.items():
            catalog = catalog.search(Key(key) == value)
    if uids is None:
        return list(catalog.values())
    runs, missing = [], []
    for uid in uids:
        try:
            runs.append(catalog[uid])
        except KeyError:
            missing.append(uid)
    if missing:
        scope = f" matching {dict(where)}" if where else ""
        raise KeyError(f"run(s) not in the catalog{scope}: {', '.join(missing)}")
    return runs


def run_documents(run: Any) -> RunDocuments:
    """A run's documents as tiled gives them back (any order)."""
    documents = iter(run.documents())
    first = next(documents, None)
    if first is None or first[0] != "start":
        raise ValueError(f"run {run.metadata['start']['uid']}: tiled returned no start document")
    docs = RunDocuments(start=first[1])
    for name, doc in documents:
        docs.add(name, doc)
    return docs


def replay(
    catalog: Any,
    dataset_dir: str | Path,
    uids: Iterable[str] | None = None,
    where: Mapping[str, Any] | None = None,
) -> list[RunAdded]:
    """Add runs of `catalog` to the dataset; runs already in it are left as they are.
    A run without a stop document is an error when named in `uids`, skipped (logged)
    when found by `where` or when replaying everything."""
    runs = select_runs(catalog, uids, where)
    open_runs = [r.metadata["start"]["uid"] for r in runs if not r.metadata.get("stop")]
    if uids is not None and open_runs:
        raise ValueError(
            f"run(s) without a stop document (still running, or killed and not recovered "
            f"yet): {', '.join(open_runs)}"
        )
    dataset = Dataset(dataset_dir)
    added = []
    for run in runs:
        if run.metadata.get("stop"):
            added.append(add_run(run_documents(run), TiledFrames(run), dataset))
        else:
            uid = run.metadata["start"]["uid"]
            logger.info("run %s has no stop document yet: not replayed", uid)
    return added
