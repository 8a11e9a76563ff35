"""The on-disk tile cache: shared between twins, exact, safe against broken files, and
keyed so that another specimen never reads a tile that is not its own."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fibsem_ophyd.sim.parameters import TwinParameters
from fibsem_ophyd.sim.specimen import Specimen
from fibsem_ophyd.sim.texture import CHANNEL, TilePyramid
from fibsem_ophyd.sim.tile_cache import TILE_CACHE_ENV_VAR

LEVEL = 6  # 160 nm pixels: a 512-px tile covers 82 µm (grid bars, cells and ice)
REGION = ((256, 768), (0, 300))  # texture pixels: 2 tiles


def _mosaic(pyramid: TilePyramid, channel: str) -> np.ndarray:
    return pyramid.mosaic(LEVEL, *REGION, CHANNEL[channel])[0]


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "tiles"
    monkeypatch.setenv(TILE_CACHE_ENV_VAR, str(folder))
    return folder


def test_a_second_twin_reads_the_first_ones_tiles_exactly(cache_dir, monkeypatch):
    first = TilePyramid(Specimen(TwinParameters(seed=3)))
    drawn = {c: _mosaic(first, c) for c in CHANNEL}
    assert first.generated == 2
    assert len(list(cache_dir.rglob("*.npy"))) == 2

    second = TilePyramid(Specimen(TwinParameters(seed=3)))
    for channel, image in drawn.items():
        assert np.array_equal(_mosaic(second, channel), image), channel
    assert second.generated == 0

    monkeypatch.delenv(TILE_CACHE_ENV_VAR)  # and the same as drawing without a cache
    fresh = TilePyramid(Specimen(TwinParameters(seed=3)))
    assert np.array_equal(_mosaic(fresh, "electron"), drawn["electron"])
    assert fresh.generated == 2


def test_another_specimen_never_reads_these_tiles(cache_dir):
    TilePyramid(Specimen(TwinParameters(seed=3))).mosaic(LEVEL, *REGION, 0)
    other_seed = TilePyramid(Specimen(TwinParameters(seed=4)))
    other_seed.mosaic(LEVEL, *REGION, 0)
    assert other_seed.generated == 2
    other_grid = TilePyramid(Specimen(TwinParameters(seed=3, grid_pitch_m=90e-6)))
    image = _mosaic(other_grid, "label")
    assert other_grid.generated == 2
    fresh = TilePyramid(Specimen(TwinParameters(seed=3)))
    assert not np.array_equal(image, _mosaic(fresh, "label"))
    assert len({p.parent for p in cache_dir.rglob("*.npy")}) == 3


def test_broken_tile_files_are_drawn_again_and_replaced(cache_dir):
    first = TilePyramid(Specimen(TwinParameters(seed=3)))
    image = _mosaic(first, "ion")
    files = sorted(cache_dir.rglob("*.npy"))
    files[0].write_bytes(files[0].read_bytes()[:1000])  # truncated
    np.save(files[1], np.zeros((3, 8, 8), np.uint8))  # wrong shape

    second = TilePyramid(Specimen(TwinParameters(seed=3)))
    assert np.array_equal(_mosaic(second, "ion"), image)
    assert second.generated == 2
    third = TilePyramid(Specimen(TwinParameters(seed=3)))
    assert np.array_equal(_mosaic(third, "ion"), image)
    assert third.generated == 0  # the broken files were replaced


def test_an_unwritable_cache_only_loses_the_cache(tmp_path, monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(TILE_CACHE_ENV_VAR, str(blocker / "tiles"))
    pyramid = TilePyramid(Specimen(TwinParameters(seed=3)))
    monkeypatch.delenv(TILE_CACHE_ENV_VAR)
    reference = TilePyramid(Specimen(TwinParameters(seed=3)))
    assert np.array_equal(_mosaic(pyramid, "electron"), _mosaic(reference, "electron"))
