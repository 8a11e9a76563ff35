"""The embedded default data store: a local tiled server every run is written to."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._read import RunImages as RunImages
    from ._read import RunRow as RunRow
    from ._read import format_runs as format_runs
    from ._read import read_images as read_images
    from ._read import recent_runs as recent_runs
    from ._settings import StorageSettings as StorageSettings
    from ._settings import ensure_api_key as ensure_api_key
    from ._settings import setup_logging as setup_logging
    from ._store import EmbeddedStore as EmbeddedStore
    from ._writer import DurableTiledWriter as DurableTiledWriter
    from ._writer import RunWritten as RunWritten

_EXPORTS = {
    "EmbeddedStore": "._store",
    "StorageSettings": "._settings",
    "ensure_api_key": "._settings",
    "setup_logging": "._settings",
    "DurableTiledWriter": "._writer",
    "RunWritten": "._writer",
    "RunImages": "._read",
    "RunRow": "._read",
    "read_images": "._read",
    "recent_runs": "._read",
    "format_runs": "._read",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    # Lazy: importing the package must not import tiled, bluesky or h5py.
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name], __name__), name)
