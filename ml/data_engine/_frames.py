"""Reading a run's frames: from the detectors' HDF5 files (live, on the acquisition
machine) or from tiled (replay, from anywhere the catalog is served)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

import numpy as np

from ._run_docs import FrameRef


class FrameReader(Protocol):
    def read(self, stream: str, data_key: str, refs: list[FrameRef]) -> list[np.ndarray]:
        """The 2-D frames `refs` of `data_key` in `stream`, in the order given."""
        ...


def _path(uri: str) -> Path:
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        raise ValueError(f"frame resource {uri!r} is not a local file (scheme {parsed.scheme!r})")
    return Path(unquote(parsed.path))


def _two_d(frame: np.ndarray, where: str) -> np.ndarray:
    squeezed = np.squeeze(frame)
    if squeezed.ndim != 2:
        raise ValueError(f"{where}: expected a 2-D frame, got shape {frame.shape}")
    return squeezed


class FileFrames:
    """Frames read straight from the resource files (HDF5, SWMR: the detector may still
    hold the file open when the run's stop document arrives)."""

    def read(self, stream: str, data_key: str, refs: list[FrameRef]) -> list[np.ndarray]:
        import h5py

        by_file: dict[tuple[str, str], list[int]] = defaultdict(list)
        for i, ref in enumerate(refs):
            by_file[(ref.uri, ref.dataset)].append(i)
        out: list[np.ndarray | None] = [None] * len(refs)
        for (uri, dataset), positions in by_file.items():
            path = _path(uri)
            if not path.is_file():
                raise FileNotFoundError(f"frame file {path} of {data_key!r} ({stream}) is missing")
            with h5py.File(path, "r", swmr=True) as file:
                if dataset not in file:
                    raise ValueError(f"{path} has no dataset {dataset!r} ({data_key!r})")
                data = file[dataset]
                data.refresh()
                indices = [refs[p].index for p in positions]
                if max(indices) >= data.shape[0]:
                    raise ValueError(
                        f"{path}:{dataset} holds {data.shape[0]} frames; the run "
                        f"refers to frame {max(indices)}"
                    )
                lo = min(indices)
                block = data[lo : max(indices) + 1]  # one slab: far faster than a point list
                for p in positions:
                    out[p] = _two_d(block[refs[p].index - lo], f"{path}:{dataset}")
        return [f for f in out if f is not None]


class TiledFrames:
    """Frames of one run read through a tiled client (the run's stream containers)."""

    def __init__(self, run: Any) -> None:
        self._run = run

    def read(self, stream: str, data_key: str, refs: list[FrameRef]) -> list[np.ndarray]:
        node = self._run[stream].base
        if data_key not in node:
            raise KeyError(
                f"run {self._run.metadata['start']['uid']}: stream {stream!r} "
                f"has no array {data_key!r} in tiled"
            )
        array = node[data_key]
        rows = [ref.row for ref in refs]
        if not rows:
            return []
        lo, hi = min(rows), max(rows) + 1
        block = np.asarray(array[lo:hi])
        return [_two_d(block[r - lo], f"{stream}/{data_key} row {r}") for r in rows]
