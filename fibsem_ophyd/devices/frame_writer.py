"""HDF5 frame files: one file per detector per run, one frame flushed at a time.

Each frame is flushed to disk as soon as it is written (SWMR mode), so a run whose
process is killed keeps every frame it had already taken.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

DATA_PATH = "/entry/data/data"


class FrameFile:
    """An append-only stack of 2-D frames of a fixed shape and dtype."""

    def __init__(self, path: Path, shape: tuple[int, int], dtype: np.dtype) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.shape = shape
        self.dtype = np.dtype(dtype)
        self._file = h5py.File(path, "w", libver="latest")
        self._data = self._file.create_dataset(
            DATA_PATH,
            shape=(0, *shape),
            maxshape=(None, *shape),
            chunks=(1, *shape),
            dtype=self.dtype,
        )
        self._file.swmr_mode = True
        self.count = 0

    def append(self, frame: np.ndarray) -> None:
        if frame.shape != self.shape:
            raise ValueError(
                f"frame shape {frame.shape} differs from the shape this run's file was "
                f"prepared for {self.shape}; change resolution between runs, not within one"
            )
        self._data.resize(self.count + 1, axis=0)
        self._data[self.count] = frame.astype(self.dtype, copy=False)
        self._data.flush()
        self.count += 1

    def close(self) -> None:
        if self._file.id.valid:
            self._file.close()
