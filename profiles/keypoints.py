"""Give the microscope keypoint processors that run a segmentation model (fibsem_ophyd
cannot import ml; the session builds the model's source and hands it to the devices)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bluesky.run_engine import call_in_bluesky_event_loop

from ml.detection.model_keypoints import ModelKeypoints, file_sha256

SHIPPED = "shipped"
"""`checkpoint` naming the shipped model (ml/segmentation/shipped)."""


def keypoint_source(checkpoint: str | Path) -> ModelKeypoints:
    """The model at `checkpoint` (smp checkpoint or ONNX) as a keypoint source, its id
    the file's SHA-256. The shipped model ("shipped", or its file) is run as it was
    trained: on the frame reduced to its input size (``load_shipped_model``)."""
    from ml.segmentation.shipped import load_shipped_model, shipped_model_path

    shipped = shipped_model_path()
    if str(checkpoint) == SHIPPED or Path(checkpoint).resolve() == shipped:
        return ModelKeypoints(load_shipped_model(), file_sha256(shipped))
    return ModelKeypoints.from_checkpoint(checkpoint)


def wire_keypoints(microscope: Any, checkpoint: str | Path) -> ModelKeypoints:
    """Load the model at `checkpoint` once (``keypoint_source``) and add
    `microscope.sem_keypoints` / `fib_keypoints` running it (all of ml.layout.FEATURES;
    the model's id is the file's SHA-256). A RunEngine must exist (its event loop
    connects the devices)."""
    source = keypoint_source(checkpoint)
    call_in_bluesky_event_loop(microscope.add_keypoints(source))
    return source
