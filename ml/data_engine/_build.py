"""One run into a dataset: extract, read its frames, write. Shared by the live
callback and replay, so both give the same dataset."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from ._dataset import Dataset
from ._extract import extract
from ._frames import FrameReader
from ._run_docs import FrameRef, RunDocuments


@dataclass(frozen=True)
class RunAdded:
    """What adding a run did: `written` False when it was already in the dataset."""

    uid: str
    written: bool
    images: int
    keypoints: int
    answers: int
    corrected: int
    accepted: int


def _read_all(
    reader: FrameReader, wanted: list[tuple[str, str, str, FrameRef]]
) -> dict[str, np.ndarray]:
    """Read (name, stream, data key, ref) frames, one request per stream and key."""
    groups: dict[tuple[str, str], list[tuple[str, FrameRef]]] = defaultdict(list)
    for name, stream, key, ref in wanted:
        groups[(stream, key)].append((name, ref))
    out: dict[str, np.ndarray] = {}
    for (stream, key), items in groups.items():
        frames = reader.read(stream, key, [ref for _, ref in items])
        out.update({name: frame for (name, _), frame in zip(items, frames, strict=True)})
    return out


def add_run(
    docs: RunDocuments,
    reader: FrameReader,
    dataset: Dataset,
    images_written: frozenset[str] = frozenset(),
    labels_written: frozenset[str] = frozenset(),
) -> RunAdded:
    """Add one finished run (stop document received) to `dataset`; the images and
    labels named in `*_written` were already written while the run went on."""
    if docs.stop is None:
        raise ValueError(f"run {docs.uid} has no stop document yet; add it once it has ended")
    record = extract(docs)
    if record.uid in dataset.runs():
        return RunAdded(record.uid, False, 0, 0, 0, 0, 0)
    todo = [im for im in record.images if im.name not in images_written]
    frames = _read_all(reader, [(im.name, im.stream, im.data_key, im.frame) for im in todo])
    masks = _read_all(
        reader,
        [
            (im.name, im.stream, im.mask_key, im.mask)
            for im in record.images
            if im.mask is not None and im.name not in labels_written
        ],
    )
    written = dataset.write_run(record, frames, masks, labels_written)
    keypoints = sum(im.keypoint(d) is not None for im in record.images for d in im.detections)
    return RunAdded(
        uid=record.uid,
        written=written,
        images=len(record.images),
        keypoints=keypoints,
        answers=len(record.answers),
        corrected=sum(im.review == "corrected" for im in record.images),
        accepted=sum(im.review == "accepted" for im in record.images),
    )
