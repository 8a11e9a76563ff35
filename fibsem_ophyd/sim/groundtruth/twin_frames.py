"""Class masks for the twin's own frames (what `TwinWorld.render` shows in a workflow).

The twin renders a material label map in the geometry of every frame
(`TwinWorld.render_labels`); this maps it onto the segmentation classes: the needle to
`manipulator`, a lamella carried on it (or its box over a post) to `lamella`, the
landing posts to `landing_post`. The workflow frames have no copper adaptor or volume
block, and the lamella still in its site (an unmilled strip of the site's raster) is
not a material of its own: for those, use the labelled views of `scene.py`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..needles import LABEL_LAMELLA, LABEL_NEEDLE
from ..specimen import LABEL_POST
from .labels import CLASS_INDEX

if TYPE_CHECKING:
    from ..world import TwinWorld

MATERIAL_TO_CLASS = {
    LABEL_NEEDLE: "manipulator",
    LABEL_LAMELLA: "lamella",
    LABEL_POST: "landing_post",
}


def class_mask_from_materials(materials: np.ndarray) -> np.ndarray:
    """(H, W) uint8 class indices from a twin material label image."""
    table = np.zeros(256, np.uint8)
    for material, name in MATERIAL_TO_CLASS.items():
        table[material] = CLASS_INDEX[name]
    return table[np.asarray(materials, np.uint8)]


def frame_class_mask(world: TwinWorld, beam: str) -> np.ndarray:
    """The class mask of the frame `world.render(beam)` gives now (same geometry)."""
    return class_mask_from_materials(world.render_labels(beam))  # type: ignore[arg-type]
