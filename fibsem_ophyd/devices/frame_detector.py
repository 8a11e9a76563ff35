"""A StandardDetector that grabs 2-D frames from a backend and writes them to HDF5.

SEM, FIB and fluorescence cameras are instances of this detector with a different
frame source. Frames are external data: the run gets StreamResource/StreamDatum
documents pointing into the HDF5 file, never inline arrays. The settings that
describe how a frame was taken (beam, detector, pixel size) are configuration
signals, so they are stored with the run's descriptor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ophyd_async.core import (
    DetectorAcquireLogic,
    DetectorDataLogic,
    DetectorTriggerLogic,
    PathProvider,
    SignalR,
    StandardDetector,
    StreamableDataProvider,
    StreamResourceDataProvider,
    StreamResourceInfo,
    TriggerInfo,
    soft_signal_r_and_setter,
)

from .frame_writer import DATA_PATH, FrameFile


@dataclass
class FrameSource:
    """Where frames come from: the shape and dtype the next frame will have, a check
    run before every frame (interlocks), and the grab itself."""

    shape: Callable[[], tuple[int, int]]
    dtype: np.dtype
    grab: Callable[[], np.ndarray]
    check: Callable[[], None] = lambda: None


class _State:
    def __init__(self) -> None:
        self.frames_written, self.set_frames_written = soft_signal_r_and_setter(int, 0)
        self.file: FrameFile | None = None
        self.frames_per_trigger = 1


class _TriggerLogic(DetectorTriggerLogic):
    def __init__(self, state: _State) -> None:
        self._state = state

    async def prepare_internal(self, num: int, livetime: float, deadtime: float) -> None:
        self._state.frames_per_trigger = num

    async def default_trigger_info(self) -> TriggerInfo:
        return TriggerInfo()


class _AcquireLogic(DetectorAcquireLogic):
    def __init__(self, state: _State, source: FrameSource) -> None:
        self._state = state
        self._source = source

    async def start_acquiring(self) -> None:
        state = self._state
        if state.file is None:
            raise RuntimeError("detector not prepared: no frame file is open")
        for _ in range(state.frames_per_trigger):
            self._source.check()
            state.file.append(self._source.grab())
            state.set_frames_written(state.file.count)

    async def wait_for_idle(self) -> None:
        return None

    async def ensure_stopped(self) -> None:
        return None


class _DataLogic(DetectorDataLogic):
    def __init__(self, state: _State, source: FrameSource, path_provider: PathProvider) -> None:
        self._state = state
        self._source = source
        self._path_provider = path_provider

    async def prepare_unbounded(self, datakey_name: str) -> StreamableDataProvider:
        info = self._path_provider(datakey_name)
        shape = self._source.shape()
        path = Path(str(info.directory_path)) / f"{info.filename}.h5"
        self._state.file = FrameFile(path, shape, self._source.dtype)
        self._state.set_frames_written(0)
        resource = StreamResourceInfo(
            data_key=datakey_name,
            shape=shape,
            chunk_shape=(1, *shape),
            dtype_numpy=np.dtype(self._source.dtype).str,
            parameters={"dataset": DATA_PATH},
        )
        return StreamResourceDataProvider(
            uri=f"{info.directory_uri}{info.filename}.h5",
            resources=[resource],
            mimetype="application/x-hdf5",
            collections_written_signal=self._state.frames_written,
        )

    async def stop(self) -> None:
        if self._state.file is not None:
            self._state.file.close()
            self._state.file = None

    def get_hinted_fields(self, datakey_name: str) -> Sequence[str]:
        return [datakey_name]


class FrameDetector(StandardDetector):
    """Grabs frames from `source` on trigger and writes them where `path_provider` says."""

    def __init__(
        self,
        source: FrameSource,
        path_provider: PathProvider,
        config_signals: Sequence[SignalR] = (),
        name: str = "",
    ) -> None:
        self._state = _State()
        self.add_detector_logics(
            _TriggerLogic(self._state),
            _AcquireLogic(self._state, source),
            _DataLogic(self._state, source, path_provider),
        )
        self.add_config_signals(*config_signals)
        super().__init__(name=name)

    @property
    def frames_written(self) -> SignalR[int]:
        return self._state.frames_written
