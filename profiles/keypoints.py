"""Give the microscope keypoint processors that run a segmentation model (fibsem_ophyd
cannot import ml; the session builds the model's source and hands it to the devices)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bluesky.run_engine import call_in_bluesky_event_loop

from ml.detection.model_keypoints import ModelKeypoints


def wire_keypoints(microscope: Any, checkpoint: str | Path) -> ModelKeypoints:
    """Load the model at `checkpoint` once (smp checkpoint or ONNX) and add
    `microscope.sem_keypoints` / `fib_keypoints` running it (all of ml.layout.FEATURES;
    the model's id is the file's SHA-256). A RunEngine must exist (its event loop
    connects the devices)."""
    source = ModelKeypoints.from_checkpoint(checkpoint)
    call_in_bluesky_event_loop(microscope.add_keypoints(source))
    return source
