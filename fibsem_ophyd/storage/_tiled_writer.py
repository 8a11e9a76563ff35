"""The TiledWriter that writes one writer thread's runs, without no-op stream closes.

bluesky_tiled_plugins' TiledWriter ends every run by declaring the end of a stream
of writes on each node it wrote (run, stream, table, frames): four DELETE requests
for a one-frame run. A tiled server acts on them only when it streams live data to
subscribers (a streaming cache) or calls webhooks; the embedded server is built
with neither, so there they only cost a request each, about a third of the
server's time for a short run. `tiled_writer(client, close_streams=False)` leaves
them out; a remote server (which may stream) gets them.

This reaches into TiledWriter's per-run writer (`_RunWriter`, `_factory`); if a
version of the library lacks these, streams are closed as usual.
"""

from __future__ import annotations

from typing import Any

from bluesky_tiled_plugins import TiledWriter
from bluesky_tiled_plugins.writing import tiled_writer as _library


class _RunWriterKeepingStreams(_library._RunWriter):
    """One run's writer that does not declare its nodes' streams closed."""

    def _close_stream_tree(self) -> None:
        """Nothing to close: the server has no streaming cache and no webhooks."""


class _TiledWriterKeepingStreams(TiledWriter):
    def _factory(self, name: str, doc: dict) -> tuple[list[Any], list[Any]]:
        run_writer = _RunWriterKeepingStreams(
            self.client,
            batch_size=self._batch_size,
            max_array_size=self._max_array_size,
            validate=self._validate,
            ignore_errors=self.ignore_errors,
        )
        normalizer = self._normalizer(patches=self.patches, spec_to_mimetype=self.spec_to_mimetype)
        normalizer.subscribe(run_writer)
        return [normalizer], []


def _library_has_hooks() -> bool:
    return callable(getattr(_library._RunWriter, "_close_stream_tree", None)) and callable(
        getattr(TiledWriter, "_factory", None)
    )


def tiled_writer(client: Any, close_streams: bool = True) -> TiledWriter:
    """A TiledWriter on `client`; with `close_streams=False`, one that sends no
    stream-close requests (only for a server that neither streams nor calls webhooks)."""
    if close_streams or not _library_has_hooks():
        return TiledWriter(client)
    return _TiledWriterKeepingStreams(client)
