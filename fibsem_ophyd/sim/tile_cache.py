"""An optional on-disk cache of texture tiles, shared by every twin on the machine.

A tile depends only on the specimen's texture parameters (seed, grid geometry, landing
posts), its level and index, and the code that draws it. Generating one costs about a
third of a second; most twins of a session, a test suite or a dataset command draw the
same tiles again. With `FIBSEM_OPHYD_TILE_CACHE` set to a folder, tiles are kept there
as `.npy` files, keyed by a hash of all of the above (the source of the drawing modules
included, so a change to the drawing never reads an old tile). Writes are atomic
(temporary file, then rename), so processes may share the folder; a file that cannot be
read is drawn again and replaced. Unset (the default), nothing is written anywhere.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from functools import cache
from pathlib import Path

import numpy as np

TILE_CACHE_ENV_VAR = "FIBSEM_OPHYD_TILE_CACHE"

# The modules whose code decides what a tile looks like.
_DRAWING_MODULES = ("texture.py", "lattice.py", "specimen.py", "posts.py", "tile_cache.py")


@cache
def _code_hash() -> str:
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for name in _DRAWING_MODULES:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:16]


def specimen_key(
    seed: int, diameter_m: float, pitch_m: float, bar_width_m: float, posts: object
) -> str:
    """A name for everything of a specimen that its tiles depend on."""
    text = repr((seed, diameter_m, pitch_m, bar_width_m, posts, _code_hash()))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def cache_folder() -> Path | None:
    """The cache folder from the environment, or None (no disk cache)."""
    value = os.environ.get(TILE_CACHE_ENV_VAR, "").strip()
    return Path(value) if value else None


class TileDiskCache:
    """Tiles of one specimen in `folder`/<specimen key>/L<level>_<ix>_<iy>.npy."""

    def __init__(self, folder: Path, key: str, shape: tuple[int, ...]) -> None:
        self.folder = folder / key
        self.shape = shape
        self.hits = 0

    def _path(self, level: int, ix: int, iy: int) -> Path:
        return self.folder / f"L{level}_{ix}_{iy}.npy"

    def get(self, level: int, ix: int, iy: int) -> np.ndarray | None:
        try:
            tile = np.load(self._path(level, ix, iy), allow_pickle=False)
        except (OSError, ValueError):  # absent, truncated or not an array file
            return None
        if tile.shape != self.shape or tile.dtype != np.uint8:
            return None
        self.hits += 1
        return tile

    def put(self, level: int, ix: int, iy: int, tile: np.ndarray) -> None:
        """Store a tile; a full disk or a read-only folder only loses the cache."""
        with contextlib.suppress(OSError):
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as f:
                    np.save(f, tile, allow_pickle=False)
                os.replace(tmp, self._path(level, ix, iy))
            except OSError:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
