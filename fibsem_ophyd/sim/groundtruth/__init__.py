"""Ground truth from the twin: labelled SEM/FIB images (class mask + keypoints) of every
workflow stage, and the command that writes them as a dataset.

The twin does not import ``ml`` (the layers are independent), so the class names, the
feature names and the dataset layout used here are the twin's own constants; a test
checks them against ``ml/classes.yaml`` and ``ml/layout.py``.
"""

from .labels import CLASS_INDEX, FEATURES, STAGES
from .scene import LabelledImage, TwinTruth, ViewSpec, render_labelled

__all__ = [
    "CLASS_INDEX",
    "FEATURES",
    "STAGES",
    "LabelledImage",
    "TwinTruth",
    "ViewSpec",
    "render_labelled",
]
