"""Protective layers: deposition rates, how fast they mill, and how they look.

Values (order-of-magnitude, documented so plans and tests can reason about them):

- Sputter coater (Pt): `SPUTTER_RATE_M_PER_A_S` = 1e-7 m/(A·s), i.e. 1 nm/s at 10 mA,
  3 nm/s at 30 mA. Mills at `RELATIVE_YIELD["sputter_pt"]` = 0.3 of the application
  file's rate (metal sputters ~3× slower than frozen-hydrated material).
- Cryo GIS deposition (organometallic Pt condensed on the cold specimen):
  `GIS_CRYO_RATE_M_PER_S` = 15 nm/s with the stage at or below `GIS_CRYO_MAX_K` (150 K),
  `GIS_WARM_RATE_M_PER_S` = 1 nm/s above it. It covers the whole specimen (cryo
  deposition; the twin does not model beam-assisted local deposition) and mills at
  `RELATIVE_YIELD["gis_pt"]` = 0.6 of the application file's rate.

Layers are thin and uniform, so they are not part of the height map: they make the
whole view brighter and smoother, and slow milling until milled through.
"""

from __future__ import annotations

import cv2
import numpy as np

SPUTTER_RATE_M_PER_A_S = 1e-7
GIS_CRYO_RATE_M_PER_S = 15e-9
GIS_WARM_RATE_M_PER_S = 1e-9
GIS_CRYO_MAX_K = 150.0
RELATIVE_YIELD: dict[str, float] = {"sputter_pt": 0.3, "gis_pt": 0.6}
LOOK_THICKNESS_M = 30e-9  # coat thickness at which the look is 63 % developed
COAT_GREY = 215.0  # what a thick metal coat looks like (0..255)
COAT_STRENGTH = 0.6  # how far a thick coat pulls the texture toward COAT_GREY


def gis_rate_m_per_s(cryo_temperature_k: float) -> float:
    """Deposition rate of the GIS for a stage at `cryo_temperature_k`."""
    if cryo_temperature_k <= GIS_CRYO_MAX_K:
        return GIS_CRYO_RATE_M_PER_S
    return GIS_WARM_RATE_M_PER_S


def coat_look(texture: np.ndarray, thickness_m: float) -> np.ndarray:
    """The uint8 texture as seen through a coat: brighter, lower contrast (smoother)."""
    if thickness_m <= 0:
        return texture
    f = COAT_STRENGTH * (1.0 - float(np.exp(-thickness_m / LOOK_THICKNESS_M)))
    return cv2.addWeighted(texture, 1.0 - f, texture, 0.0, f * COAT_GREY, dtype=cv2.CV_8U)


def remove_layers(
    budget_m: np.ndarray,
    remaining: list[np.ndarray],
    layers: list[tuple[str, float]],
) -> np.ndarray:
    """Mill through coat layers top-down, in place.

    `budget_m` is the depth the dose would remove from bare specimen (float32 window);
    `remaining[k]` the remaining fraction 0..1 (float32 window) of `layers[k]`. Returns
    the budget left for the specimen under the coat.
    """
    budget = budget_m
    for k in range(len(layers) - 1, -1, -1):
        material, thickness = layers[k]
        rel = RELATIVE_YIELD.get(material, 1.0)
        frac = remaining[k]
        left = frac * np.float32(thickness)  # metres of this layer left
        use = np.minimum(budget, left / np.float32(rel))  # budget spent on this layer
        frac -= use * np.float32(rel / thickness)
        np.maximum(frac, 0.0, out=frac)
        budget = budget - use
    return budget
