"""Finding a lamella site in the SEM and FIB images and centring it, every detection
checked before the stage moves.

A detection is trusted when its score reaches `MIN_SCORE[beam]` and the correction it
asks for is one the stage can plausibly need: at most `PLAUSIBLE_SIGMAS` times the
stage's repeatability (config `stage.repeatability_m`) — a detection locked onto the
neighbouring grid square asks for a whole grid pitch. An untrusted detection is retried
with a fresh image, then with an image at twice the field width; still untrusted, the
supervisor is asked with the reason (the automatic supervisor fails the site). After
every corrective move the site is detected again and must have come to the centre — a
detection that does not follow the specimen is not believed — else, after `MAX_MOVES`,
the site fails with the residual.
"""

from __future__ import annotations

import math

import bluesky.plan_stubs as bps
from bluesky.utils import MsgGenerator, plan

from fibsem_ophyd.devices.microscope import Microscope
from fibsem_ophyd.supervision import Question

from .movement import stable_move, vertical_move
from .supervision import ask

MIN_SCORE = {"electron": 0.3, "ion": 0.1}
PLAUSIBLE_SIGMAS = 5.0
# Residual offset (image plane) that counts as centred. In the ion view at the milling
# angle the specimen is foreshortened ~4x vertically, so it must be tighter there.
CENTRED_M = {"electron": 50e-9, "ion": 30e-9}
MAX_MOVES = 4


class SiteNotFound(RuntimeError):
    """The site could not be found or centred with results the plan can trust."""


def plausible_correction_m(microscope: Microscope) -> float:
    """The largest correction a detection may ask for (metres, image plane)."""
    return PLAUSIBLE_SIGMAS * microscope.stage.limits.repeatability_m


def _problem(beam: str, dx: float, dy: float, score: float, bound_m: float) -> str:
    """Why a detection is not to be trusted ("" when it is)."""
    if not (math.isfinite(dx) and math.isfinite(dy) and math.isfinite(score)):
        return f"the {beam} detection returned no position"
    if score < MIN_SCORE[beam]:
        return f"{beam} detection score {score:.2f} < {MIN_SCORE[beam]}"
    size = abs(dy) if beam == "ion" else math.hypot(dx, dy)
    if size > bound_m:
        return (
            f"the {beam} detection asks for a {size * 1e6:.1f} µm correction, more than the "
            f"stage can be wrong by ({bound_m * 1e6:.1f} µm)"
        )
    return ""


@plan
def _detect(microscope: Microscope, beam: str) -> MsgGenerator[tuple[float, float, float]]:
    """Acquire and detect: (dx_m, dy_m, score); the detection is event data."""
    m = microscope
    det, feat = m.detector(beam), m.features(beam)
    yield from bps.trigger(det, wait=True)
    yield from bps.trigger(feat, wait=True)
    yield from bps.create(f"detection_{beam}")
    for device in (det, feat, m.stage):
        yield from bps.read(device)
    yield from bps.save()
    dx = yield from bps.rd(feat.dx_m)
    dy = yield from bps.rd(feat.dy_m)
    score = yield from bps.rd(feat.score)
    return dx, dy, score


@plan
def find_site(
    microscope: Microscope, beam: str, lamella: str, stage: str
) -> MsgGenerator[tuple[float, float]]:
    """The site's offset (dx_m, dy_m) from the `beam` image centre, checked, retried and
    confirmed (or corrected) by the supervisor; SupervisorAbort when nobody can."""
    m = microscope
    b = m.beam(beam)
    bound = plausible_correction_m(m)
    hfw = yield from bps.rd(b.hfw_m)
    wider = min(2 * hfw, b.limits.hfw_max_m)
    problem, dx, dy = "", 0.0, 0.0
    for field_m in (hfw, hfw, wider):
        if field_m != (yield from bps.rd(b.hfw_m)):
            yield from bps.mv(b.hfw_m, field_m)
        dx, dy, score = yield from _detect(m, beam)
        problem = _problem(beam, dx, dy, score, bound)
        if not problem:
            break
    if (yield from bps.rd(b.hfw_m)) != hfw:
        yield from bps.mv(b.hfw_m, hfw)
    question = Question(
        kind="point", site=lamella, stage=stage, message=f"site centre in the {beam} image",
        beam=beam,
        proposal_x_m=dx if math.isfinite(dx) else 0.0,
        proposal_y_m=dy if math.isfinite(dy) else 0.0, problem=problem,
    )  # fmt: skip
    answer = yield from ask(m, question)
    return question.proposal_x_m + answer.dx_m, question.proposal_y_m + answer.dy_m


@plan
def centre_in_beam(
    microscope: Microscope,
    beam: str,
    lamella: str,
    stage: str,
    tolerance_m: float | None = None,
) -> MsgGenerator[None]:
    """Bring the site to the `beam` image centre: stable move in the SEM, vertical move
    (height, leaving the SEM view alone) in the FIB; verified by detecting again, to
    `tolerance_m` (default `CENTRED_M[beam]`)."""
    tolerance = CENTRED_M[beam] if tolerance_m is None else tolerance_m
    if not (math.isfinite(tolerance) and tolerance > 0):
        raise ValueError(f"tolerance_m must be a positive number of metres, got {tolerance_m!r}")
    residual = float("nan")
    for _move in range(MAX_MOVES + 1):
        dx, dy = yield from find_site(microscope, beam, lamella, stage)
        residual = abs(dy) if beam == "ion" else math.hypot(dx, dy)
        if residual <= tolerance:
            return
        if _move == MAX_MOVES:
            break
        if beam == "ion":
            yield from vertical_move(microscope, dy)
        else:
            yield from stable_move(microscope, dx, dy, "electron")
    raise SiteNotFound(
        f"{lamella}: the site did not come to the {beam} image centre after {MAX_MOVES} "
        f"moves (residual {residual * 1e9:.0f} nm > {tolerance * 1e9:.0f} nm)"
    )
