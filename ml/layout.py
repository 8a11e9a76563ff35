"""The on-disk layout of a labelled dataset (written by the twin's dataset command, the
data engine and the napari labelling widgets; read by training and evaluation).

::

    <dataset>/
        images/<name>.tif       one image per file, 2-D, uint8 or uint16
        labels/<name>.tif       class indices (uint8), same shape; ml/classes.yaml
        keypoints.csv           one row per feature found in an image (KEYPOINT_COLUMNS)
        metadata.csv            one row per image (METADATA_COLUMNS, more columns allowed)

Keypoint pixel coordinates are (x_px, y_px) = (column, row) with pixel centres at
integers, the convention of ``ml.detection.keypoints.Keypoint``. A feature that is not in
an image has no row (never (0, 0)). ``instance`` numbers several objects of one feature in
an image (several lamellae), 0 when there is one.
"""

from __future__ import annotations

IMAGES_DIR = "images"
LABELS_DIR = "labels"
KEYPOINTS_CSV = "keypoints.csv"
METADATA_CSV = "metadata.csv"

KEYPOINT_COLUMNS = ("image", "feature", "instance", "x_px", "y_px")
METADATA_COLUMNS = (
    "image",  # file name in images/ (with suffix)
    "beam",  # "electron" or "ion"
    "hfw_m",
    "pixel_size_m",
    "height_px",
    "width_px",
    "site",  # site / lamella name
    "stage",  # workflow stage, e.g. "rough_milling", "liftout", "landing"
    "seed",  # the twin's seed (empty for real data)
    "source",  # "twin", "run:<uid>", "manual"
)

# Keypoint features (issue 11): names as the evaluation CSV and the plans use them.
FEATURES = (
    "NeedleTip",
    "LamellaCentre",
    "LamellaLeftEdge",
    "LamellaRightEdge",
    "LamellaTopEdge",
    "LamellaBottomEdge",
    "LandingPost",
    "ImageCentre",
    "CopperAdapterCentre",
    "VolumeBlockCentre",
)
