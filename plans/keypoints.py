"""Keypoints from the segmentation model, as event data: acquire an image, run the beam's
keypoint processor (`microscope.keypoints(beam)`) on it, read both in one event.

`detect_keypoints` is the stub a workflow calls inside its own run (the detector
staged); it returns every feature as a `KeypointReading`, found or not, with the
reason. `acquire_keypoints` is the same in a run of its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import bluesky.plan_stubs as bps
import bluesky.preprocessors as bpp
from bluesky.utils import MsgGenerator, plan

from fibsem_ophyd.devices.microscope import Microscope

from ._md import plan_md
from ._run import run_decorator
from .imaging import check_beam


@dataclass(frozen=True)
class KeypointReading:
    """One feature as the processor published it. Offsets in metres from the image
    centre, x right, y up; NaN with `found` False and a `reason` when not found."""

    feature: str
    found: bool
    x_px: float
    y_px: float
    dx_m: float
    dy_m: float
    score: float
    reason: str


@dataclass(frozen=True)
class KeypointDetections:
    features: dict[str, KeypointReading]
    model_id: str
    pixel_size_m: float

    def require(self, feature: str) -> KeypointReading:
        """The feature, or LookupError with the reason it was not found."""
        reading = self.features[feature]
        if not reading.found:
            raise LookupError(f"{feature} not found: {reading.reason}")
        return reading


def _check_near(near_px: tuple[float, float] | None) -> None:
    if near_px is None:
        return
    if len(near_px) != 2 or not all(math.isfinite(float(v)) for v in near_px):
        raise ValueError(f"near_px must be a finite (col, row) pair of pixels, got {near_px!r}")


POST_VIEWS = ("auto", "top", "side")


def length_ok(value: object) -> bool:
    """A length in metres in (0, 1e-3]: finite, not a boolean."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 < value <= 1e-3
    )


def _check_hints(
    lamella_length_m: float | None, post_view: str, post_size_m: tuple[float, float] | None
) -> None:
    if lamella_length_m is not None and not length_ok(lamella_length_m):
        raise ValueError(
            "lamella_length_m must be a length in metres in (0, 1e-3] or None (unknown),"
            f" got {lamella_length_m!r}"
        )
    if post_view not in POST_VIEWS:
        raise ValueError(f"post_view must be one of {POST_VIEWS}, got {post_view!r}")
    if post_size_m is not None and not (
        isinstance(post_size_m, tuple | list)
        and len(post_size_m) == 2
        and all(length_ok(v) for v in post_size_m)
    ):
        raise ValueError(
            "post_size_m must be (width, length) in metres, each in (0, 1e-3], or None"
            f" (unknown), got {post_size_m!r}"
        )


@plan
def detect_keypoints(
    microscope: Microscope,
    beam: str,
    near_px: tuple[float, float] | None = None,
    stream: str | None = None,
    lamella_length_m: float | None = None,
    post_view: str = "auto",
    post_size_m: tuple[float, float] | None = None,
) -> MsgGenerator[KeypointDetections]:
    """Trigger `beam`'s detector and keypoint processor; one event (stream
    `keypoints_<beam>` unless given) holds the frame, every feature, the model's id and
    the stage pose. `near_px` (col, row) picks among several lamellae/posts (default:
    the image centre). What the workflow knows: `lamella_length_m`, the lamella's length
    from its protocol (None: unknown), places a lamella cut by the image's border from
    its end in view; `post_view` ("auto", "top", "side") says how the posts are seen;
    `post_size_m` (width, length as seen from above, the length foreshortened as the
    image is; None: unknown) places a pad cut by the border. Call inside a run with the
    detector staged."""
    check_beam(beam)
    _check_near(near_px)
    _check_hints(lamella_length_m, post_view, post_size_m)
    m = microscope
    det, proc = m.detector(beam), m.keypoints(beam)
    near = (math.nan, math.nan) if near_px is None else (float(near_px[0]), float(near_px[1]))
    length = math.nan if lamella_length_m is None else float(lamella_length_m)
    post = (math.nan, math.nan) if post_size_m is None else tuple(float(v) for v in post_size_m)
    yield from bps.mv(
        proc.near_x_px,
        near[0],
        proc.near_y_px,
        near[1],
        proc.lamella_length_m,
        length,
        proc.post_view,
        post_view,
        proc.post_width_m,
        post[0],
        proc.post_length_m,
        post[1],
    )
    yield from bps.trigger(det, wait=True)
    yield from bps.trigger(proc, wait=True)
    yield from bps.create(stream or f"keypoints_{beam}")
    yield from bps.read(det)
    reading: dict[str, Any] = yield from bps.read(proc)
    yield from bps.read(m.stage)
    yield from bps.save()

    def value(key: str) -> Any:
        return reading[f"{proc.name}-{key}"]["value"]

    features = {
        f: KeypointReading(
            feature=f,
            found=bool(value(f"{f}-found")),
            x_px=float(value(f"{f}-x_px")),
            y_px=float(value(f"{f}-y_px")),
            dx_m=float(value(f"{f}-dx_m")),
            dy_m=float(value(f"{f}-dy_m")),
            score=float(value(f"{f}-score")),
            reason=str(value(f"{f}-reason")),
        )
        for f in proc.feature_names
    }
    return KeypointDetections(features, str(value("model_id")), float(value("pixel_size_m")))


@plan
def acquire_keypoints(
    microscope: Microscope,
    beam: str = "ion",
    near_px: tuple[float, float] | None = None,
    md: dict | None = None,
    lamella_length_m: float | None = None,
    post_view: str = "auto",
    post_size_m: tuple[float, float] | None = None,
) -> MsgGenerator[KeypointDetections]:
    """One image of `beam` and its keypoints, in a run of their own (the hints as
    `detect_keypoints` takes them)."""
    check_beam(beam)
    _check_near(near_px)
    _check_hints(lamella_length_m, post_view, post_size_m)
    det = microscope.detector(beam)
    proc = microscope.keypoints(beam)  # refused before the run opens when there is none
    _md = plan_md(
        microscope,
        "acquire_keypoints",
        {
            "beam": beam,
            "near_px": near_px,
            "lamella_length_m": lamella_length_m,
            "post_view": post_view,
            "post_size_m": post_size_m,
        },
        {"beam": beam, "keypoint_model": proc.source.model_id, **(md or {})},
    )

    @bpp.stage_decorator([det])
    @run_decorator(md=_md)
    def inner() -> MsgGenerator[KeypointDetections]:
        return (
            yield from detect_keypoints(
                microscope,
                beam,
                near_px,
                lamella_length_m=lamella_length_m,
                post_view=post_view,
                post_size_m=post_size_m,
            )
        )

    return (yield from inner())
