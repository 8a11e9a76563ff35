"""Per-frame metadata as event data: what the backend reported with each frame.

An imaging detector keeps the backend's `FrameMetadata` of its latest frame in a string
signal (JSON), and this data logic reads that signal into every event, beside the frame
itself (data key ``<detector>-frame_metadata``). The twin and the fibsem bridge report
the same model, so their runs have the same shape. The beam and detector settings stay
configuration (in the descriptor); this field is what the microscope said about the frame.
"""

from __future__ import annotations

import json

from ophyd_async.core import (
    DetectorDataLogic,
    ReadableDataProvider,
    SignalDataProvider,
    SignalR,
)

from ..backend import FrameMetadata

SUFFIX = "-frame_metadata"


def metadata_json(metadata: FrameMetadata | None) -> str:
    """`metadata` as the JSON the event holds ("{}" when the backend reported nothing).
    Values JSON cannot hold (a vendor's own types) are written as their text."""
    if metadata is None:
        return "{}"
    return json.dumps(metadata.model_dump(), default=str, allow_nan=True)


class FrameMetadataLogic(DetectorDataLogic):
    """Reads the metadata signal (named ``<detector>-frame_metadata``) with each event."""

    datakey_suffix = SUFFIX

    def __init__(self, signal: SignalR[str]) -> None:
        self._signal = signal

    async def prepare_single(self, datakey_name: str) -> ReadableDataProvider:
        if self._signal.name != datakey_name:
            raise RuntimeError(
                f"frame metadata signal is named {self._signal.name!r}, "
                f"the detector expects {datakey_name!r}"
            )
        return SignalDataProvider(self._signal)
