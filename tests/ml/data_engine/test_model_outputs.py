"""What a segmentation/keypoint model publishes beside the frames — a class mask as a
frame of its own, several features with their checkpoint hash — goes to labels/,
keypoints.csv and the provenance; a mask that is not class indices is refused."""

from __future__ import annotations

import bluesky.plan_stubs as bps
import bluesky.preprocessors as bpp
import numpy as np
import pytest
import tifffile
from ophyd_async.core import (
    StandardReadable,
    StaticPathProvider,
    UUIDFilenameProvider,
    init_devices,
    soft_signal_r_and_setter,
    soft_signal_rw,
)
from ophyd_async.core import StandardReadableFormat as Format

from fibsem_ophyd.devices.frame_detector import FrameDetector, FrameSource
from ml.classes import LAMELLA, LANDING_POST
from ml.data_engine import DETECTIONS_CSV, DataEngine, DataEngineError, read_rows
from ml.layout import KEYPOINTS_CSV, LABELS_DIR, METADATA_CSV
from plans._md import plan_md
from plans._run import run_decorator

HASH = "sha256:0123abcd"


class KeypointModel(StandardReadable):
    """Stands in for a model's processing device: fixed keypoints, a checkpoint hash."""

    def __init__(self, name: str = "") -> None:
        with self.add_children_as_readables(Format.HINTED_SIGNAL):
            self.NeedleTip_x_px, _ = soft_signal_r_and_setter(float, 10.5)
            self.NeedleTip_y_px, _ = soft_signal_r_and_setter(float, 20.25)
            self.NeedleTip_score, _ = soft_signal_r_and_setter(float, 0.9)
            self.LamellaCentre_x_px, _ = soft_signal_r_and_setter(float, float("nan"))
            self.LamellaCentre_y_px, _ = soft_signal_r_and_setter(float, float("nan"))
        with self.add_children_as_readables(Format.CONFIG_SIGNAL):
            self.checkpoint_hash = soft_signal_rw(str, HASH)
        super().__init__(name=name)


def _mask(top_value: int) -> np.ndarray:
    mask = np.zeros((256, 384), np.uint8)
    mask[:100, 50:150] = top_value
    mask[200:, :] = LANDING_POST
    return mask


def _mask_detector(frames_dir, top_value: int) -> FrameDetector:
    async def grab() -> np.ndarray:
        return _mask(top_value)

    source = FrameSource(shape=lambda: (256, 384), dtype=np.dtype(np.uint8), grab=grab)
    provider = StaticPathProvider(UUIDFilenameProvider(), frames_dir)
    with init_devices():
        fib_mask = FrameDetector(source, provider, name="fib_mask")
        fib_keypoints = KeypointModel(name="fib_keypoints")
    return fib_mask, fib_keypoints


def _model_run(m, fib_mask, fib_keypoints):
    @bpp.stage_decorator([m.fib, fib_mask])
    @run_decorator(md=plan_md(m, "model_run", {}, {"site": "lamella_02", "stage": "liftout"}))
    def inner():
        for _ in range(2):
            yield from bps.trigger_and_read([m.fib, fib_mask, fib_keypoints, m.stage])

    return (yield from inner())


def test_masks_keypoints_and_checkpoint_hash_are_kept(RE, small_microscope, frames_dir, tmp_path):
    fib_mask, fib_keypoints = _mask_detector(frames_dir, LAMELLA)
    engine = DataEngine(tmp_path / "dataset")
    RE.subscribe(engine)
    RE(_model_run(small_microscope, fib_mask, fib_keypoints))
    engine.close()
    root = engine.dataset.root
    rows = read_rows(root / METADATA_CSV)
    assert len(rows) == 2
    for row in rows:
        assert (row["data_key"], row["mask_key"]) == ("fib", "fib_mask")
        provenance = (row["site"], row["stage"], row["checkpoint_hash"])
        assert provenance == ("lamella_02", "liftout", HASH)
        np.testing.assert_array_equal(tifffile.imread(root / LABELS_DIR / row["image"]), _mask(1))
    keypoints = read_rows(root / KEYPOINTS_CSV)
    # The needle tip per image; the lamella centre was not found: no row, never (0, 0).
    assert [(k["feature"], float(k["x_px"]), float(k["y_px"])) for k in keypoints] == [
        ("NeedleTip", 10.5, 20.25)
    ] * 2
    detections = read_rows(root / DETECTIONS_CSV)
    assert {(d["feature"], d["x_px"], d["detector"]) for d in detections} == {
        ("NeedleTip", "10.5", "fib_keypoints"),
        ("LamellaCentre", "", "fib_keypoints"),
    }


def test_a_mask_outside_the_class_indices_is_refused(RE, small_microscope, frames_dir, tmp_path):
    fib_mask, fib_keypoints = _mask_detector(frames_dir, 9)
    engine = DataEngine(tmp_path / "dataset")
    RE.subscribe(engine)
    (uid,) = RE(_model_run(small_microscope, fib_mask, fib_keypoints)).run_start_uids
    with pytest.raises(DataEngineError, match=rf"{uid}.*mask values 0\.\.9 outside .*0\.\.5"):
        engine.flush()
    engine.close()
    root = engine.dataset.root
    assert not (root / METADATA_CSV).exists()  # nothing of that run kept
    assert not any(root.rglob("*.tif"))  # frames written while it went on are removed
