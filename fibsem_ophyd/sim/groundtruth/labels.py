"""The twin's ground-truth vocabulary: class indices, keypoint feature names, stages.

These mirror ``ml/classes.yaml`` and ``ml/layout.py`` (the twin may not import ``ml``);
``tests/sim/groundtruth/test_vocabulary.py`` fails if they drift apart.
"""

from __future__ import annotations

CLASS_INDEX: dict[str, int] = {
    "background": 0,
    "lamella": 1,
    "manipulator": 2,
    "landing_post": 3,
    "copper_adaptor": 4,
    "volume_block": 5,
}

FEATURES: tuple[str, ...] = (
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

#: workflow stages the dataset covers: on-grid lamella milling, lift-out, landing
STAGES: tuple[str, ...] = (
    "trenches",  # rough milling: a thick lamella between two deep trenches
    "thinned",  # thinning: a thinner lamella, shallower trenches widened
    "polished",  # polishing: the final thin lamella
    "liftout_needle",  # a volume block cut free in its trench, the needle at its top
    "liftout_adaptor",  # the needle carries a copper adaptor holding a volume block
    "posts",  # the grid's landing posts (the twin's own posts, seen from above)
    "landing",  # the needle brings a lamella to the side of a post
    "landed",  # the lamella stands on the post, needle gone
)

# Layout of a dataset folder (ml/layout.py)
IMAGES_DIR = "images"
LABELS_DIR = "labels"
KEYPOINTS_CSV = "keypoints.csv"
METADATA_CSV = "metadata.csv"
KEYPOINT_COLUMNS = ("image", "feature", "instance", "x_px", "y_px")
METADATA_COLUMNS = (
    "image",
    "beam",
    "hfw_m",
    "pixel_size_m",
    "height_px",
    "width_px",
    "site",
    "stage",
    "seed",
    "source",
)
