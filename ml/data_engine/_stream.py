"""Writing a run's frames while it goes on, so that its stop document leaves only the
CSV rows (and any frame not written yet) to do: the engine keeps up with acquisition
whatever the run's length.

The RunEngine's thread notes where each frame is (stream datum) and, with each event,
hands the worker a job per image (and its mask); the worker reads the frame from the
detector's file and writes it. If a frame of a run cannot be written, the run fails
as a whole: the files already written for it are removed.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._dataset import Dataset
from ._detections import frame_shape, image_name, mask_of, split_frame_keys
from ._frames import FrameReader
from ._run_docs import FrameRef, RunDocuments

logger = logging.getLogger("ml.data_engine")


@dataclass(frozen=True)
class FrameJob:
    run_uid: str
    name: str
    stream: str
    key: str
    ref: FrameRef
    shape: tuple[int, int]
    mask_key: str = ""
    mask_ref: FrameRef | None = None


class FrameStreamer:
    def __init__(self, dataset: Dataset, reader: FrameReader) -> None:
        self._dataset = dataset
        self._reader = reader
        self._locations: dict[tuple[str, str, int], FrameRef] = {}  # RunEngine thread
        self._images: dict[str, set[str]] = defaultdict(set)  # worker thread from here on
        self._labels: dict[str, set[str]] = defaultdict(set)
        self._paths: dict[str, list[Path]] = defaultdict(list)
        self.failed: dict[str, str] = {}

    # -- RunEngine thread ------------------------------------------------------------
    def locate(self, run: RunDocuments, datum: dict[str, Any]) -> None:
        """Note where the frames of a stream datum are."""
        resource = run.stream_resources.get(datum["stream_resource"])
        if resource is None:
            return  # the stop will name the problem
        seq0, i0 = datum["seq_nums"]["start"], datum["indices"]["start"]
        dataset = str(resource.get("parameters", {}).get("dataset", ""))
        for offset in range(datum["seq_nums"]["stop"] - seq0):
            ref = FrameRef(resource["uri"], dataset, i0 + offset, row=-1)
            self._locations[(datum["descriptor"], resource["data_key"], seq0 + offset)] = ref

    def jobs(self, run: RunDocuments, event: dict[str, Any]) -> list[FrameJob]:
        """The frames of `event` that can be written now."""
        descriptor = run.descriptors.get(event["descriptor"])
        if descriptor is None:
            return []
        pictures, masks = split_frame_keys(descriptor)
        stream, seq, uid = str(descriptor.get("name", "primary")), int(event["seq_num"]), run.uid
        found: list[FrameJob] = []
        for key in pictures:
            ref = self._locations.pop((descriptor["uid"], key, seq), None)
            mask_key = mask_of(key, pictures, masks)
            mask_ref = self._locations.pop((descriptor["uid"], mask_key, seq), None)
            if ref is None or (mask_key and mask_ref is None):
                continue  # written at the stop instead
            shape = frame_shape(descriptor["data_keys"][key])
            name = image_name(uid, stream, key, seq)
            found.append(FrameJob(uid, name, stream, key, ref, shape, mask_key, mask_ref))
        return found

    def forget(self, run: RunDocuments) -> None:
        """Drop what is left of a stopped run's frame locations."""
        descriptors = set(run.descriptors)
        self._locations = {k: v for k, v in self._locations.items() if k[0] not in descriptors}

    # -- worker thread ---------------------------------------------------------------
    def write(self, job: FrameJob) -> None:
        uid = job.run_uid
        if uid in self.failed:
            return
        try:
            (frame,) = self._reader.read(job.stream, job.key, [job.ref])
            self._paths[uid].append(self._dataset.write_image(job.name, frame, job.shape))
            self._images[uid].add(job.name)
            if job.mask_ref is not None:
                (mask,) = self._reader.read(job.stream, job.mask_key, [job.mask_ref])
                self._paths[uid].append(self._dataset.write_label(job.name, mask, job.shape))
                self._labels[uid].add(job.name)
        except Exception as exc:
            logger.exception("run %s: frame %s not written", uid, job.name)
            self.failed[uid] = f"{type(exc).__name__}: {exc}"
            self.discard(uid)

    def written(self, uid: str) -> tuple[frozenset[str], frozenset[str]]:
        """(images, labels) written for run `uid` so far."""
        return frozenset(self._images.get(uid, ())), frozenset(self._labels.get(uid, ()))

    def discard(self, uid: str) -> None:
        """Remove the files written for a run that failed."""
        for path in self._paths.pop(uid, []):
            path.unlink(missing_ok=True)
        self._images.pop(uid, None)
        self._labels.pop(uid, None)

    def done(self, uid: str) -> None:
        """Forget a run that is in the dataset."""
        self._paths.pop(uid, None)
        self._images.pop(uid, None)
        self._labels.pop(uid, None)
        self.failed.pop(uid, None)
