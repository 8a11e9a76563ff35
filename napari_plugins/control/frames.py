"""Frames and detections from the document stream, for the live view and the layers.

`FrameCollector` is a document callback: from StreamResource/StreamDatum it reads each
new frame out of its HDF5 file (written in SWMR mode, so it is readable while the run
goes on), and from the descriptor and event it takes what the frame needs to be shown
in metres: the beam's pixel size and settings, the stage pose. Detections are event
values that come in ``<device>-x_px`` / ``<device>-y_px`` pairs (feature detectors,
keypoint processors); each belongs to the newest frame of the detector its device
name starts with (``sem_features`` -> ``sem``). Nothing here knows about Qt.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import h5py
import numpy as np

DETECTOR_BEAMS = {"sem": "electron", "fib": "ion"}


@dataclass
class Frame:
    """One image with what it takes to place it: metres per pixel, beam settings,
    stage pose (raw, metres/degrees) and where it came from."""

    detector: str
    image: np.ndarray
    pixel_size_m: float
    beam: str
    settings: dict[str, Any] = field(default_factory=dict)
    stage: dict[str, float] = field(default_factory=dict)
    run_uid: str = ""
    stream: str = ""

    @property
    def metadata(self) -> dict[str, Any]:
        return {"detector": self.detector, "beam": self.beam, "pixel_size_m": self.pixel_size_m,
                "settings": self.settings, "stage": self.stage, "run_uid": self.run_uid,
                "stream": self.stream}  # fmt: skip


@dataclass(frozen=True)
class Detection:
    """A detected point (pixels of `detector`'s newest frame) with its score."""

    name: str
    detector: str
    x_px: float
    y_px: float
    score: float = math.nan


def read_frame(uri: str, dataset: str, index: int) -> np.ndarray:
    path = Path(urlparse(uri).path)
    with h5py.File(path, "r", libver="latest", swmr=True) as f:
        data = f[dataset]
        data.refresh()
        return np.asarray(data[index])


class FrameCollector:
    """Subscribe it to a runner; `on_frame(frame)` and `on_detections(list)` fire on the
    runner's thread as documents arrive. `latest` keeps the newest frame per detector."""

    def __init__(
        self,
        on_frame: Callable[[Frame], None] | None = None,
        on_detections: Callable[[list[Detection]], None] | None = None,
    ) -> None:
        self.on_frame = on_frame
        self.on_detections = on_detections
        self.latest: dict[str, Frame] = {}
        self._resources: dict[str, dict] = {}
        self._descriptors: dict[str, dict] = {}
        self._pending: dict[str, list[Frame]] = {}  # descriptor uid -> frames awaiting event
        self._run_uid = ""

    def __call__(self, name: str, doc: dict) -> None:
        handler = getattr(self, f"_{name}", None)
        if handler is not None:
            handler(doc)

    def _start(self, doc: dict) -> None:
        self._run_uid = doc["uid"]
        self._resources.clear()
        self._descriptors.clear()
        self._pending.clear()

    def _descriptor(self, doc: dict) -> None:
        self._descriptors[doc["uid"]] = doc

    def _stream_resource(self, doc: dict) -> None:
        self._resources[doc["uid"]] = doc

    def _stream_datum(self, doc: dict) -> None:
        resource = self._resources.get(doc["stream_resource"])
        descriptor = self._descriptors.get(doc["descriptor"])
        if resource is None or descriptor is None:
            return
        detector = resource["data_key"]
        config = descriptor.get("configuration", {}).get(detector, {}).get("data", {})
        settings = {key.split("-", 1)[1]: value for key, value in config.items() if "-" in key}
        beam = next((k.split("-", 1)[0] for k in config if k.endswith("-pixel_size_m")), "")
        pixel = float(settings.get("pixel_size_m", math.nan))
        last = int(doc["indices"]["stop"]) - 1
        image = read_frame(resource["uri"], resource["parameters"]["dataset"], last)
        frame = Frame(detector, image, pixel, DETECTOR_BEAMS.get(detector, beam) or beam,
                      settings, run_uid=self._run_uid, stream=descriptor["name"])  # fmt: skip
        self._pending.setdefault(doc["descriptor"], []).append(frame)

    def _event(self, doc: dict) -> None:
        data = doc["data"]
        for frame in self._pending.pop(doc["descriptor"], []):
            frame.stage = {k.split("-", 1)[1]: float(v) for k, v in data.items()
                           if k.startswith("stage-") and isinstance(v, int | float)}  # fmt: skip
            self.latest[frame.detector] = frame
            if self.on_frame is not None:
                self.on_frame(frame)
        found = detections_in(data, set(self.latest))
        if found and self.on_detections is not None:
            self.on_detections(found)


def detections_in(data: dict[str, Any], detectors: set[str]) -> list[Detection]:
    """Finite ``<device>-x_px``/``-y_px`` pairs of an event whose device belongs to one
    of `detectors` (by name prefix)."""
    out = []
    for key, x in data.items():
        if not key.endswith("-x_px"):
            continue
        stem = key[: -len("-x_px")]
        y = data.get(f"{stem}-y_px")
        if not isinstance(x, int | float) or not isinstance(y, int | float):
            continue
        if not (math.isfinite(x) and math.isfinite(y)):
            continue
        owner = next((d for d in sorted(detectors) if stem.startswith(f"{d}_")), None)
        if owner is None:
            continue
        score = data.get(f"{stem}-score", math.nan)
        out.append(Detection(stem, owner, float(x), float(y), float(score)))
    return out
