"""Model guidance: a keypoint model's feature as the finder the workflows detect with.

The workflows find everything through the FeatureDetector devices (`sem_features`,
`fib_features` by target; `sem_needle`, `fib_needle`); a target "guided by the model"
gets a `ModelFinder` in place of its classical finder, so the plans are unchanged and
so is every check they make of a detection (score, plausible correction size, a
follow-up detection after the move): a wrong model detection is retried, asked about
or fails the site like a wrong classical one. A feature the model does not find is
reported as no position (NaN, score 0), which every plan refuses. Each detection
records the finder's id (`<detector>-finder_id`, event data): for a model,
"model <feature> <model_id>", the model's id being the SHA-256 of its file.

Which targets the model guides by default is what measures best on the twin
(benchmarks/bench_keypoint_accuracy.py, part 2, the shipped model, held-out seeds
100-103; median error SEM / FIB): needle tip 82 / 66 nm (classical 43 / 34 nm), landing
post 123 / 398 nm (5 / 8 nm), landed lamella ~1 / 9 µm (27-91 / 21 nm). The classical
finders are better on every target, so by default the model guides none
(`DEFAULT_MODEL_TARGETS` is empty) and guidance is asked for by name.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np

from fibsem_ophyd.devices.keypoint_processor import KeypointSource

MODEL_FEATURES: Mapping[str, str] = {
    "needle": "NeedleTip",  # sem_needle / fib_needle
    "landing_post": "LandingPost",  # sem_features / fib_features, target "landing_post"
    "landed_lamella": "LamellaCentre",  # target "landed_lamella"
}
"""The workflow targets a keypoint model can stand in for, and the feature it gives.
("grid_square" has none: a site's lamella is not yet a class of its own.)"""

DEFAULT_MODEL_TARGETS: frozenset[str] = frozenset()
"""Targets where the shipped model measured at least as good as the classical finder
on the twin's workflow frames: none (see the module's docstring)."""


class ModelFinder:
    """A FeatureDetector finder, ``(image, pixel_size_m, vertical_scale) -> (x_px, y_px,
    score)``, taking one feature from a keypoint source (the one nearest the image
    centre where there are several); not found: ``(nan, nan, 0.0)``."""

    def __init__(self, source: KeypointSource, feature: str) -> None:
        if feature not in source.features:
            raise ValueError(
                f"the keypoint source gives no {feature!r}; it gives {tuple(source.features)}"
            )
        self.source = source
        self.feature = feature

    @property
    def finder_id(self) -> str:
        return f"model {self.feature} {self.source.model_id}"

    def __call__(
        self, image: np.ndarray, pixel_size_m: float, vertical_scale: float
    ) -> tuple[float, float, float]:
        outcome = self.source(image, pixel_size_m, None)[self.feature]
        if isinstance(outcome, str):  # not found: the reason
            return math.nan, math.nan, 0.0
        x, y, score = (float(v) for v in outcome)
        return x, y, score


def guide_with_model(
    microscope: object, source: KeypointSource, targets: Iterable[str]
) -> dict[str, ModelFinder]:
    """Let `source` find `targets` (keys of ``MODEL_FEATURES``) in both beams, in place
    of their classical finders; the others are left as they are. Returns the finders
    installed, by target."""
    chosen = tuple(dict.fromkeys(targets))
    unknown = [t for t in chosen if t not in MODEL_FEATURES]
    if unknown:
        raise ValueError(
            f"the model cannot guide {unknown}; it can guide {', '.join(MODEL_FEATURES)}"
        )
    installed: dict[str, ModelFinder] = {}
    for target in chosen:
        finder = ModelFinder(source, MODEL_FEATURES[target])
        installed[target] = finder
        for beam in ("electron", "ion"):
            if target == "needle":
                microscope.needle_features(beam).finder = finder  # type: ignore[attr-defined]
            else:
                microscope.features(beam).finders[target] = finder  # type: ignore[attr-defined]
    return installed
