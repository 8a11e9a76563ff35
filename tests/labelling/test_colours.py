"""Label colours come from ml/classes.yaml; background is transparent."""

from __future__ import annotations

import pytest

from ml.classes import class_table
from napari_plugins.labelling.colours import label_colours


def test_colours_follow_the_class_table():
    colours = label_colours(opacity=0.7)
    table = class_table()
    assert sorted(colours) == [c.index for c in table.classes]
    assert colours[0][3] == 0.0
    lamella = table.classes[table.index("lamella")]
    assert colours[lamella.index] == (*(c / 255 for c in lamella.colour), 0.7)
    with pytest.raises(ValueError, match=r"opacity must be 0\.\.1, got 2"):
        label_colours(opacity=2)
