"""The twin's ground-truth vocabulary is the one ml/ reads (the twin may not import ml)."""

import ml.layout as layout
from fibsem_ophyd.sim.groundtruth import CLASS_INDEX, FEATURES, labels
from ml.classes import class_table


def test_class_indices_are_the_class_table() -> None:
    table = class_table()
    assert {name: table.index(name) for name in table.names} == CLASS_INDEX


def test_features_and_layout_are_ml_layout() -> None:
    assert FEATURES == layout.FEATURES
    assert labels.KEYPOINT_COLUMNS == layout.KEYPOINT_COLUMNS
    assert labels.METADATA_COLUMNS == layout.METADATA_COLUMNS
    for name in ("IMAGES_DIR", "LABELS_DIR", "KEYPOINTS_CSV", "METADATA_CSV"):
        assert getattr(labels, name) == getattr(layout, name), name
