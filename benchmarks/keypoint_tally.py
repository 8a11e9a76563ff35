"""Tallies of keypoint errors for benchmarks/bench_keypoint_accuracy.py: per feature
(found, within 25 and 10 px, median error, false detections) and per stage (where the
misses are, and how many belong to a lamella running past the border)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ml.detection.mask_features import FoundFeature

THRESHOLDS_PX = (25.0, 10.0)
#: a lamella running past the border: where these truly are depends on its end out of
#: view (its edge there is not in the truth at all; its edge in view stays counted)
PLACED_FROM_WHOLE_LENGTH = ("LamellaCentre", "LamellaTopEdge", "LamellaBottomEdge")


@dataclass
class Tally:
    """Errors of one feature (or one finder on one target)."""

    present: int = 0
    errors_px: list[float] = field(default_factory=list)
    pixel_m: list[float] = field(default_factory=list)
    false: int = 0
    absent: int = 0

    def add(self, error_px: float | None, pixel_m: float) -> None:
        """A true point: found at `error_px` from it, or not found (None)."""
        self.present += 1
        if error_px is not None:
            self.errors_px.append(error_px)
            self.pixel_m.append(pixel_m)

    def intervals(self, z: float = 1.96) -> list[tuple[float, float]]:
        """Per threshold, the Wilson score interval (in %) of the share within it: what
        a set of this many keypoints says of the model's rate on such views (480 views
        give about 1,900 keypoints: +-1 point at 95 %)."""
        n = self.present
        if n == 0:
            return [(math.nan, math.nan) for _ in THRESHOLDS_PX]
        err = np.asarray(self.errors_px)
        out = []
        for t in THRESHOLDS_PX:
            p = int((err <= t).sum()) / n
            centre = (p + z * z / (2 * n)) / (1 + z * z / n)
            half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
            out.append((100.0 * (centre - half), 100.0 * (centre + half)))
        return out

    def row(self) -> str:
        n = self.present
        if n == 0:
            dashes = " ".join(f"{'-':>{k}}" for k in (7, 6, 6, 9, 9))
            return f"{0:>5} {dashes} {self.false:>4}/{self.absent}"
        err = np.asarray(self.errors_px)
        within = [100.0 * int((err <= t).sum()) / n for t in THRESHOLDS_PX]
        med_px = float(np.median(err)) if err.size else math.nan
        med_nm = float(np.median(err * np.asarray(self.pixel_m))) * 1e9 if err.size else math.nan
        found = 100.0 * err.size / n
        return (
            f"{n:>5} {found:>6.1f}% {within[0]:>5.1f}% {within[1]:>5.1f}% "
            f"{med_px:>9.1f} {med_nm:>9.0f} {self.false:>4}/{self.absent}"
        )


def header(label: int = 22) -> str:
    return (
        f"{'':<{label}}{'n':>5} {'found':>7} {'<=25px':>6} {'<=10px':>6} {'median px':>9} "
        f"{'median nm':>9} {'false':>6}"
    )


LABEL_PART2 = 37


@dataclass
class StageMisses:
    """Where one stage's features miss: beyond 25 px, 10-25 px, and how many of each
    belong to a lamella that runs past the border."""

    present: int = 0
    far: int = 0
    near: int = 0
    far_cut: int = 0
    near_cut: int = 0

    def add(self, error_px: float | None, cut: bool) -> None:
        self.present += 1
        if error_px is None or error_px > THRESHOLDS_PX[0]:
            self.far += 1
            self.far_cut += cut
        elif error_px > THRESHOLDS_PX[1]:
            self.near += 1
            self.near_cut += cut

    def row(self) -> str:
        far = f"{self.far:>5} ({self.far_cut:>2})"
        return f"{self.present:>5} {far} {self.near:>5} ({self.near_cut:>2})"


@dataclass
class Way:
    """The tallies of one way of detecting (image only, or with the workflow's hints)."""

    tallies: dict[str, Tally]
    shown: Tally = field(default_factory=Tally)
    by_stage: dict[str, StageMisses] = field(default_factory=dict)

    def add(self, found, truth, spec, past_border: bool) -> None:
        for feature, tally in self.tallies.items():
            got = found.get(feature)
            if feature in truth:
                tx, ty = truth[feature]
                err = None if got is None else _distance(got, tx, ty)
                tally.add(err, spec.pixel_m)
                if feature == "ImageCentre":
                    continue
                cut = past_border and feature in PLACED_FROM_WHOLE_LENGTH
                self.by_stage.setdefault(spec.stage, StageMisses()).add(err, cut)
                if not cut:
                    self.shown.add(err, spec.pixel_m)
            else:
                tally.absent += 1
                tally.false += got is not None

    def print(self) -> None:
        print(header())
        for feature, tally in self.tallies.items():
            print(f"{feature:<22}{tally.row()}")
        every = Tally()
        for feature, tally in self.tallies.items():
            if feature == "ImageCentre":
                continue
            every.present += tally.present
            every.errors_px += tally.errors_px
            every.pixel_m += tally.pixel_m
            every.false += tally.false
            every.absent += tally.absent
        print(f"{'all but ImageCentre':<22}{every.row()}")
        print(f"{'  shown by the image':<22}{self.shown.row().rsplit(' ', 1)[0]}")
        for label, tally in (("all", every), ("shown by the image", self.shown)):
            spans = ", ".join(
                f"<= {t:g} px {lo:.1f}-{hi:.1f} %"
                for t, (lo, hi) in zip(THRESHOLDS_PX, tally.intervals(), strict=True)
            )
            print(f"  95 % interval ({label}): {spans}")
        print(
            "  (shown by the image: not counting the centre, top and bottom of a lamella running"
            " past the image's border, whose true points lie halfway along its whole length,"
            " from an end that is out of view)"
        )
        print(
            "Misses by stage: features, beyond 25 px, 10-25 px (those placed from a lamella's"
            " end out of view)"
        )
        for stage, misses in self.by_stage.items():
            print(f"  {stage:<20}{misses.row()}")


def _distance(found: FoundFeature, x: float, y: float) -> float:
    return float(math.hypot(found.keypoint.x_px - x, found.keypoint.y_px - y))
