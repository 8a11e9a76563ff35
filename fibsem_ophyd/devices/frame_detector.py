"""A StandardDetector that grabs 2-D frames from a backend and writes them to HDF5.

SEM, FIB and fluorescence cameras are instances of this detector with a different
frame source. Frames are external data: the run gets StreamResource/StreamDatum
documents pointing into the HDF5 file, never inline arrays. The settings that
describe how a frame was taken (beam, detector, pixel size) are configuration
signals, so they are stored with the run's descriptor.

Grabbing a frame is awaited (it takes the scan's time without blocking the event
loop), so a RunEngine pause can land while a frame is being taken. bluesky then
replays the trigger on resume; the frame taken meanwhile is never read. Triggers run
one at a time (a lock, first come first served), and an event points at the newest
frame(s) only: frames written since the last event and older than the last trigger's
were taken by triggers nobody read, and are skipped. So each event points at exactly
its own frame, however a pause and the replayed trigger interleave.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from bluesky.protocols import StreamAsset
from event_model import StreamRange
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
    grab: Callable[[], Awaitable[np.ndarray]]  # takes the frame's time, never blocks
    check: Callable[[], None] = lambda: None


class _State:
    def __init__(self) -> None:
        self.frames_written, self.set_frames_written = soft_signal_r_and_setter(int, 0)
        self.file: FrameFile | None = None
        self.frames_per_trigger = 1
        self.provider: _FrameProvider | None = None
        self._busy: asyncio.Lock | None = None

    @property
    def busy(self) -> asyncio.Lock:
        """Held while frames are taken (made in the running loop)."""
        if self._busy is None:
            self._busy = asyncio.Lock()
        return self._busy


class _FrameProvider(StreamResourceDataProvider):
    """ophyd-async's provider, skipping frames that were written but never read: the
    stream resource goes out once, the datum of each event covers only the newest
    index (the frames of the trigger just read; older unread ones were replaced by a
    replayed trigger)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._resource_sent = False
        self.skipped = 0  # indices written but never read (interrupted triggers)

    async def make_stream_docs(
        self, collections_written: int, collections_per_event: int
    ) -> AsyncIterator[StreamAsset]:
        indices_written = collections_written // collections_per_event
        if indices_written - self.last_emitted > 1:  # step scans only: one index per event
            self.skipped += indices_written - 1 - self.last_emitted
            self.last_emitted = indices_written - 1
        if indices_written > self.last_emitted and not self._resource_sent:
            self._resource_sent = True
            for bundle in self.bundles:
                yield "stream_resource", bundle.stream_resource_doc
        if indices_written > self.last_emitted:
            indices: StreamRange = {"start": self.last_emitted, "stop": indices_written}
            self.last_emitted = indices_written
            for bundle in self.bundles:
                yield "stream_datum", bundle.compose_stream_datum(indices)


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
        async with state.busy:  # a frame still in flight from before a pause ends first
            if state.file is None:
                raise RuntimeError("detector not prepared: no frame file is open")
            for _ in range(state.frames_per_trigger):
                self._source.check()
                frame = await self._source.grab()
                state.file.append(frame)
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
        # A frame still in flight (a trigger a pause interrupted, before a stage that is
        # run again) lands in the file it was taken for, not in the new one: otherwise
        # the new file's first event would cover two frames.
        async with self._state.busy:
            return self._prepare(datakey_name)

    def _prepare(self, datakey_name: str) -> StreamableDataProvider:
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
        self._state.provider = _FrameProvider(
            uri=f"{info.directory_uri}{info.filename}.h5",
            resources=[resource],
            mimetype="application/x-hdf5",
            collections_written_signal=self._state.frames_written,
        )
        return self._state.provider

    async def stop(self) -> None:
        async with self._state.busy:  # a frame in flight is written before the file closes
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

    @property
    def frames_skipped(self) -> int:
        """Frames written to the current file but never read (interrupted triggers)."""
        provider = self._state.provider
        return provider.skipped if provider is not None else 0
