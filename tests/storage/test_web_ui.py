"""tiled's web UI in headless Chromium, opened with the store's read-only key: the
runs of a small demo on the twin are listed, and a run's image shows the frame."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from bluesky import RunEngine
from PIL import Image
from skimage.transform import resize

from fibsem_ophyd.storage import EmbeddedStore, read_images
from tests.servers import binary

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--window-size=1280,1000", "--virtual-time-budget=20000",
)  # fmt: skip


def chromium(tmp_path: Path, url: str, *args: str) -> str:
    """Run headless Chromium on `url` with a fresh profile; its stdout."""
    exe = binary("chromium")
    profile = tmp_path / f"chromium-{len(list(tmp_path.glob('chromium-*')))}"
    out = subprocess.run(
        [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, url],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EmbeddedStore, list[str]]]:
    """An ion and an electron image of the twin, in a store of their own."""
    from fibsem_ophyd.connect import connect_microscope
    from plans import acquire_image
    from profiles.detectors import wire_detectors

    binary("chromium")  # skip before starting anything
    store = EmbeddedStore(data_dir=tmp_path_factory.mktemp("web-ui") / "data")
    try:
        store.start()
        RE = RunEngine(call_returns_result=True)
        microscope = connect_microscope(path_provider=store.path_provider())
        wire_detectors(microscope)
        store.subscribe(RE)
        uids = [
            RE(acquire_image(microscope, beam)).run_start_uids[0] for beam in ("ion", "electron")
        ]
        store.flush()
        yield store, uids
    finally:
        store.stop()


def test_browse_key_reads_only(demo) -> None:
    store, _ = demo
    key = {"api_key": store.browse_key}
    assert httpx.get(f"{store.uri}/metadata/", params=key).status_code == 200
    refused = httpx.post(f"{store.uri}/metadata/", params=key, json={})
    assert refused.status_code == 403 and "read-only" in refused.text
    assert httpx.get(f"{store.uri}/metadata/", params={"api_key": "0" * 64}).status_code == 401
    # The browser gets the browse key as its cookie, never the store's own key.
    reply = httpx.get(store.web_ui_url())
    assert store.api_key not in reply.headers.get("set-cookie", "")
    assert store.browse_key in reply.headers["set-cookie"]


def test_web_ui_lists_the_runs(demo, tmp_path: Path) -> None:
    store, uids = demo
    dom = chromium(tmp_path, store.web_ui_url(), "--dump-dom")
    assert all(uid in dom for uid in uids), dom[-2000:]


def _image_region(rgb: np.ndarray) -> np.ndarray:
    """The grey-scale image the UI draws: the rows and columns mostly made of grey
    (R = G = B) pixels that differ from both neighbours (the frame's texture; page,
    shadows and text are flat or sparse)."""
    value = rgb[..., 0].astype(int)
    grey = (rgb[..., 0] == rgb[..., 1]) & (rgb[..., 1] == rgb[..., 2])
    textured = grey.copy()
    textured[:, 1:] &= value[:, 1:] != value[:, :-1]
    textured[1:, :] &= value[1:, :] != value[:-1, :]
    rows = np.flatnonzero(textured.mean(axis=1) > 0.3)
    cols = np.flatnonzero(textured.mean(axis=0) > 0.3)
    assert rows.size > 100 and cols.size > 100, "no image on the page"
    return value[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].astype(float)


def test_web_ui_shows_a_runs_frame(demo, tmp_path: Path) -> None:
    store, uids = demo
    run = read_images(store.client(), uids[0])
    detector = next(iter(run.images))
    frame = np.squeeze(run.images[detector]).astype(float)  # one frame: (rows, columns)
    assert frame.ndim == 2, frame.shape
    shot = tmp_path / "tiled-web-ui-frame.png"
    chromium(tmp_path, store.web_ui_url(f"{uids[0]}/primary/{detector}"), f"--screenshot={shot}")
    assert shot.is_file()
    shown = _image_region(np.asarray(Image.open(shot).convert("RGB")))
    expected = resize(frame, shown.shape)

    def correlation(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])

    assert correlation(shown, expected) > 0.9  # the page shows this frame ...
    other = read_images(store.client(), uids[1]).images
    different = resize(np.squeeze(next(iter(other.values()))).astype(float), shown.shape)
    assert correlation(shown, different) < 0.9  # ... and not just any image
