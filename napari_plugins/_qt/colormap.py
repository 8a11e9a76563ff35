"""The class table's colours as a napari label colormap."""

from __future__ import annotations

from napari.utils.colormaps import DirectLabelColormap

from ml.classes import ClassTable
from napari_plugins.labelling.colours import label_colours


def class_colormap(table: ClassTable) -> DirectLabelColormap:
    return DirectLabelColormap(color_dict={**label_colours(table), None: (0.0, 0.0, 0.0, 0.0)})
