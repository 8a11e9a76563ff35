"""Replay journals of runs that never reached tiled (killed process, server down).

A run without a stop document gets a synthetic one (exit_status "abort"), and
its image streams are extended to the frames its HDF5 files hold, since the
detector flushes every frame before the documents describing it are emitted.
"""

from __future__ import annotations

import logging
import os
import stat
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ._journal import claimed, pending_journals, read_journal

logger = logging.getLogger("fibsem_ophyd.storage")

KILLED_REASON = "process killed before the run closed"
HDF5_MIMETYPES = {"application/x-hdf5", "application/x-hdf"}


def _frames_in_file(resource: dict, run_uid: str) -> int | None:
    """Frames in the resource's HDF5 dataset, or None if it cannot be read (a truncated
    or missing file: logged with the run's uid)."""
    dataset = resource.get("parameters", {}).get("dataset")
    if resource.get("mimetype") not in HDF5_MIMETYPES or not dataset:
        return None
    import h5py

    try:
        # swmr: the writer was killed with the file open for writing
        with h5py.File(urlparse(resource["uri"]).path, "r", swmr=True) as file:
            return int(file[dataset].shape[0])
    except (OSError, KeyError) as err:
        logger.warning(
            "run %s: cannot count frames of %s (%s); its frames are left as journaled",
            run_uid,
            resource["uri"],
            err,
        )
        return None


def _last_datums(docs: list[tuple[str, dict]]) -> dict[str, list[dict]]:
    """The last stream datum of each stream resource, grouped by descriptor uid."""
    last: dict[str, dict] = {}
    for name, doc in docs:
        if name == "stream_datum":
            last[doc["stream_resource"]] = doc
    by_descriptor: dict[str, list[dict]] = {}
    for datum in last.values():
        by_descriptor.setdefault(datum["descriptor"], []).append(datum)
    return by_descriptor


def _more_frames(
    datums: list[dict], resources: dict[str, dict], run_uid: str
) -> list[tuple[str, dict]]:
    """Stream datums for frames that are in every file of a stream but in no document."""
    stops = {d["indices"]["stop"] for d in datums}
    seq_stops = {d["seq_nums"]["stop"] for d in datums}
    counts = [_frames_in_file(resources.get(d["stream_resource"], {}), run_uid) for d in datums]
    if len(stops) != 1 or len(seq_stops) != 1 or None in counts:
        return []
    stop, seq_stop, frames = stops.pop(), seq_stops.pop(), min(counts)  # type: ignore[type-var]
    if frames <= stop:
        return []
    logger.info("recovered %d frame(s) beyond the last document", frames - stop)
    return [
        (
            "stream_datum",
            {
                "uid": f"{d['stream_resource']}/recovered-{stop}",
                "stream_resource": d["stream_resource"],
                "descriptor": d["descriptor"],
                "indices": {"start": stop, "stop": frames},
                "seq_nums": {"start": seq_stop, "stop": seq_stop + frames - stop},
            },
        )
        for d in datums
    ]


def complete_streams(docs: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
    """Documents for the frames a killed run had flushed but not described.

    Only for streams whose data are all external (images): their events carry
    no values, so the missing ones can be rebuilt and the event table keeps the
    length of the frame arrays. Streams with readings are left as journaled.
    """
    descriptors = {d["uid"]: d for n, d in docs if n == "descriptor"}
    resources = {d["uid"]: d for n, d in docs if n == "stream_resource"}
    last_seq: dict[str, int] = {}
    last_time: dict[str, float] = {}
    for name, doc in docs:
        if name in ("event", "event_page"):
            seq = doc["seq_num"] if name == "event" else max(doc["seq_num"])
            last_seq[doc["descriptor"]] = max(last_seq.get(doc["descriptor"], 0), seq)
            last_time[doc["descriptor"]] = doc["time"] if name == "event" else max(doc["time"])
    extra: list[tuple[str, dict]] = []
    for desc_uid, datums in _last_datums(docs).items():
        descriptor = descriptors.get(desc_uid)
        keys = descriptor["data_keys"].values() if descriptor else []
        if not descriptor or not all(key.get("external") for key in keys):
            continue
        run_uid = next((d["uid"] for n, d in docs if n == "start"), "?")
        more = _more_frames(datums, resources, run_uid)
        extra.extend(more)
        seq_end = max(d["seq_nums"]["stop"] for _, d in [*more, *(("", d) for d in datums)])
        for seq in range(last_seq.get(desc_uid, 0) + 1, seq_end):
            event = {"uid": str(uuid.uuid4()), "descriptor": desc_uid, "seq_num": seq}
            event |= {"time": last_time.get(desc_uid, descriptor["time"])}
            extra.append(("event", event | {"data": {}, "timestamps": {}, "filled": {}}))
    return extra


def synthetic_stop(docs: list[tuple[str, dict]], reason: str = KILLED_REASON) -> dict:
    """A stop document for a run whose process died before emitting one."""
    start = next(d for n, d in docs if n == "start")
    stream_of = {d["uid"]: d["name"] for n, d in docs if n == "descriptor"}
    counts: Counter[str] = Counter()
    for name, doc in docs:
        if name == "event":
            counts[stream_of[doc["descriptor"]]] += 1
        elif name == "event_page":
            counts[stream_of[doc["descriptor"]]] += len(doc["seq_num"])
    return {
        "uid": str(uuid.uuid4()),
        "time": time.time(),
        "run_start": start["uid"],
        "exit_status": "abort",
        "reason": reason,
        "num_events": {name: counts.get(name, 0) for name in stream_of.values()},
    }


def _unreadable_frame_file(resource: dict) -> str | None:
    """Why the HDF5 file of a stream resource cannot be read (missing, not HDF5, cut
    short: a frame's data lies beyond its end), or None (also for files that are not
    HDF5: not checked). The end is checked by hand: HDF5's SWMR readers, which a
    killed writer's file needs, do not check it and read a lost frame as zeros."""
    if resource.get("mimetype") not in HDF5_MIMETYPES:
        return None
    import h5py

    path = urlparse(resource["uri"]).path
    dataset = resource.get("parameters", {}).get("dataset")
    try:
        size = os.path.getsize(path)
        with h5py.File(path, "r", swmr=True) as file:
            if dataset:
                end = _data_end(file[dataset])
                if end > size:
                    return f"cut short: {size} bytes, its frames need {end}"
    except (OSError, KeyError) as err:
        return str(err)
    return None


def _data_end(dataset: Any) -> int:
    """The byte just past the dataset's data in its file."""
    ds = dataset.id
    if dataset.chunks is None:
        offset = ds.get_offset()
        return 0 if offset is None else offset + ds.get_storage_size()
    chunks = [ds.get_chunk_info(i) for i in range(ds.get_num_chunks())]
    return max((c.byte_offset + c.size for c in chunks if c.byte_offset is not None), default=0)


def without_unreadable_frames(docs: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
    """The documents less the stream resources whose frame file cannot be read (and
    their stream datums), each logged with the run's uid: the run is recovered with
    everything else, and its catalog entry points at no broken file."""
    uid = next((d["uid"] for n, d in docs if n == "start"), "?")
    broken = set()
    for name, doc in docs:
        if name == "stream_resource" and (why := _unreadable_frame_file(doc)) is not None:
            logger.warning(
                "run %s: frame file %s is unreadable (%s); its frames are skipped",
                uid,
                doc["uri"],
                why,
            )
            broken.add(doc["uid"])
    return [
        (n, d)
        for n, d in docs
        if not (n == "stream_resource" and d["uid"] in broken)
        and not (n == "stream_datum" and d["stream_resource"] in broken)
    ]


def replay(client: Any, docs: list[tuple[str, dict]]) -> str:
    """Write one journaled run into tiled, replacing any partial copy; returns its uid."""
    from bluesky_tiled_plugins import TiledWriter

    start = next(d for n, d in docs if n == "start")
    uid = start["uid"]
    if uid in client:
        if client[uid].metadata.get("stop"):
            return uid  # it did reach tiled; only the journal's removal was lost
        client[uid].delete(recursive=True, external_only=False)
    docs = without_unreadable_frames(docs)
    if not any(n == "stop" for n, _ in docs):
        docs = [*docs, *complete_streams(docs)]
        docs.append(("stop", synthetic_stop(docs)))
    writer = TiledWriter(client)
    for name, doc in docs:
        writer(name, doc)
    return uid


def recover(client: Any, journal_dir: Path) -> list[str]:
    """Replay every pending journal of `journal_dir`; returns the recovered run uids."""
    recovered: list[str] = []
    for path in pending_journals(journal_dir):
        with claimed(path) as mine:  # another process may be recovering it right now
            if mine and (uid := _recover_one(client, path)):
                recovered.append(uid)
    return recovered


def _recover_one(client: Any, path: Path) -> str | None:
    try:
        docs = read_journal(path)
    except OSError as err:
        logger.warning("run %s: journal %s cannot be read (%s); skipped", path.stem, path, err)
        return None
    if not any(n == "start" for n, _ in docs):
        logger.warning("run %s: journal %s has no start document; set aside", path.stem, path)
        _set_aside(path, "unreadable")
        return None
    try:
        uid = replay(client, docs)
    except Exception:  # a broken run never blocks start-up; it is retried next time
        logger.exception("run %s: could not recover %s; it stays pending", path.stem, path)
        return None
    logger.info("recovered run %s from %s", uid, path.name)
    _set_aside(path, "recovered")
    return uid


def _set_aside(path: Path, folder: str) -> None:
    target = path.parent / folder
    target.mkdir(exist_ok=True, mode=stat.S_IMODE(path.parent.stat().st_mode))  # as private
    path.replace(target / path.name)
