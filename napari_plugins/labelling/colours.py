"""Label colours for napari from the class table (``ml/classes.yaml``)."""

from __future__ import annotations

from ml.classes import ClassTable, class_table

RGBA = tuple[float, float, float, float]


def label_colours(table: ClassTable | None = None, opacity: float = 1.0) -> dict[int, RGBA]:
    """Class index -> RGBA in 0..1; background (index 0) is transparent."""
    if not 0.0 <= opacity <= 1.0:
        raise ValueError(f"opacity must be 0..1, got {opacity}")
    table = table or class_table()
    colours: dict[int, RGBA] = {}
    for entry in table.classes:
        r, g, b = (c / 255.0 for c in entry.colour)
        colours[entry.index] = (r, g, b, 0.0 if entry.index == 0 else opacity)
    return colours
