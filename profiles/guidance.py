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
100-103; SEM / FIB). Needle tip: the model's median error is 49 / 36 nm against the
classical finder's 43 / 34 nm, and it puts 11 of 16 SEM tips within 10 px where the
classical finder puts 15 (the stage-5 model: 26 / 21 nm, 13 of 16). A tip not found is
retried, put to the supervisor or fails the site; the plans centre to half a pixel,
which both reach. Landing post: 76 / 113 nm against 5 / 8 nm. Landed lamella: the model
does not find it in the workflow's frames (the classical finder: 27-91 / 21 nm). So by
default the model guides none (`DEFAULT_MODEL_TARGETS` is empty) and guidance is asked
for by name.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np

from fibsem_ophyd.devices.feature_detector import Finder, finder_id
from fibsem_ophyd.devices.keypoint_processor import KeypointSource
from plans.keypoints import POST_VIEWS, length_ok

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


AGREE_PX = 25.0
"""How near (pixels) a refining finder's answer must be to the model's to be taken."""


def _check_length(name: str, value: float) -> float:
    if not length_ok(value):
        raise ValueError(f"{name} must be a length in metres in (0, 1e-3], got {value!r}")
    return float(value)


class ModelFinder:
    """A FeatureDetector finder, ``(image, pixel_size_m, vertical_scale) -> (x_px, y_px,
    score)``, taking one feature from a keypoint source (the one nearest the image
    centre where there are several); not found: ``(nan, nan, 0.0)``.

    With `refine` (a classical finder of the same target), the model says where the
    target is and the classical finder places it: its answer is taken when it lies
    within `agree_px` of the model's (score: the lower of the two), else the model's
    own answer stands. A segmentation centroid is good to a pixel or so; the plans
    centre to half a pixel, which the classical finders reach (bench_keypoint_accuracy).

    What the workflow knows of the target goes to the source as its hints, as the
    classical finders are given the target's size: ``lamella_length_m`` (a landed
    lamella's length, along the image's x), ``post_view`` ("top", "side"; "auto": the
    source judges) and ``post_size_m`` (a post's width and length seen from above; the
    length is foreshortened by each frame's ``vertical_scale`` before it is passed).
    Unset, none is passed (a source that takes no hints still works)."""

    def __init__(
        self,
        source: KeypointSource,
        feature: str,
        refine: Finder | None = None,
        agree_px: float = AGREE_PX,
        *,
        lamella_length_m: float | None = None,
        post_view: str = "auto",
        post_size_m: tuple[float, float] | None = None,
    ) -> None:
        if feature not in source.features:
            raise ValueError(
                f"the keypoint source gives no {feature!r}; it gives {tuple(source.features)}"
            )
        if not agree_px > 0:
            raise ValueError(f"agree_px must be > 0 (pixels), got {agree_px}")
        if post_view not in POST_VIEWS:
            raise ValueError(f"post_view must be one of {POST_VIEWS}, got {post_view!r}")
        self.source = source
        self.feature = feature
        self.refine = refine
        self.agree_px = float(agree_px)
        self.lamella_length_m = (
            None
            if lamella_length_m is None
            else _check_length("lamella_length_m", lamella_length_m)
        )
        self.post_view = post_view
        self.post_size_m = None if post_size_m is None else _pair("post_size_m", post_size_m)

    def hints(self, vertical_scale: float) -> dict[str, object]:
        """The keyword hints a frame of `vertical_scale` is detected with."""
        hints: dict[str, object] = {}
        if self.lamella_length_m is not None:
            hints["lamella_length_m"] = self.lamella_length_m
        if self.post_view != "auto":
            hints["post_view"] = self.post_view
        if self.post_size_m is not None:
            width, length = self.post_size_m
            hints["post_size_m"] = (width, length * float(vertical_scale))
        return hints

    @property
    def finder_id(self) -> str:
        own = f"model {self.feature} {self.source.model_id}"
        return own if self.refine is None else f"{own} refined by {finder_id(self.refine)}"

    def __call__(
        self, image: np.ndarray, pixel_size_m: float, vertical_scale: float
    ) -> tuple[float, float, float]:
        hints = self.hints(vertical_scale)
        outcome = self.source(image, pixel_size_m, None, **hints)[self.feature]
        if isinstance(outcome, str):  # not found: the reason
            return math.nan, math.nan, 0.0
        x, y, score = (float(v) for v in outcome)
        if self.refine is not None:
            rx, ry, rscore = (float(v) for v in self.refine(image, pixel_size_m, vertical_scale))
            near = math.isfinite(rx) and math.isfinite(ry) and rscore > 0
            if near and math.hypot(rx - x, ry - y) <= self.agree_px:
                return rx, ry, min(score, rscore)
        return x, y, score


def workflow_hints(
    target: str,
    chunk_size_m: tuple[float, float] | None,
    post_size_m: tuple[float, float] | None,
) -> dict[str, object]:
    """What the workflow knows of `target` as ModelFinder's hints: a landed lamella's
    length, a post's size, and that the workflows look at a post from above
    (plans/posts.py: the landing point is the middle of the post's top; the FIB's view
    of it is foreshortened, which each frame's vertical scale carries)."""
    if target == "landing_post" and post_size_m is not None:
        width, length = _pair("post_size_m", post_size_m)
        return {"post_view": "top", "post_size_m": (width, length)}
    if target == "landing_post":
        return {"post_view": "top"}
    if target == "landed_lamella" and chunk_size_m is not None:
        return {"lamella_length_m": _pair("chunk_size_m", chunk_size_m, ("width", "thickness"))[0]}
    return {}


def _pair(
    name: str, size_m: tuple[float, float], parts: tuple[str, str] = ("width", "length")
) -> tuple[float, float]:
    """A size of two lengths in metres, each checked, the field and part named."""
    if not isinstance(size_m, tuple | list) or len(size_m) != 2:
        raise ValueError(f"{name} must be ({', '.join(parts)}) in metres, got {size_m!r}")
    return (
        _check_length(f"{name} {parts[0]}", size_m[0]),
        _check_length(f"{name} {parts[1]}", size_m[1]),
    )


def guide_with_model(
    microscope: object,
    source: KeypointSource,
    targets: Iterable[str],
    refine: bool = False,
    chunk_size_m: tuple[float, float] | None = None,
    post_size_m: tuple[float, float] | None = None,
) -> dict[str, ModelFinder]:
    """Let `source` find `targets` (keys of ``MODEL_FEATURES``) in both beams, in place
    of their classical finders; the others are left as they are. With `refine`, the
    classical finder each replaces places the model's answer (``ModelFinder``). The
    sizes the classical finders are given go to the model as what the workflow knows
    (``ModelFinder``): a landed lamella's length (`chunk_size_m`'s width), a post's
    size (`post_size_m`), and that the workflows see a post from above. Returns the
    finders installed, by target and beam ("landing_post/ion")."""
    chosen = tuple(dict.fromkeys(targets))
    unknown = [t for t in chosen if t not in MODEL_FEATURES]
    if unknown:
        raise ValueError(
            f"the model cannot guide {unknown}; it can guide {', '.join(MODEL_FEATURES)}"
        )
    # Every finder is made (and so checked) before any is installed: a refused wiring
    # leaves the detectors as they were.
    made: list[tuple[str, str, object, ModelFinder]] = []
    for target in chosen:
        hints = workflow_hints(target, chunk_size_m, post_size_m)
        for beam in ("electron", "ion"):
            if target == "needle":
                detector = microscope.needle_features(beam)  # type: ignore[attr-defined]
                classical = detector.finder
            else:
                detector = microscope.features(beam)  # type: ignore[attr-defined]
                classical = detector.finders.get(target)
            finder = ModelFinder(
                source, MODEL_FEATURES[target], classical if refine else None, **hints
            )
            made.append((target, beam, detector, finder))
    for target, _beam, detector, finder in made:
        if target == "needle":
            detector.finder = finder  # type: ignore[attr-defined]
        else:
            detector.finders[target] = finder  # type: ignore[attr-defined]
    return {f"{target}/{beam}": finder for target, beam, _detector, finder in made}
