"""Feature detectors run the finder of their target (grid square, landed lamella,
landing post): the target is set by the plan, recorded with every detection, and a
target no finder is configured for is refused by name, publishing nothing."""

from __future__ import annotations

import bluesky.plan_stubs as bps
import bluesky.preprocessors as bpp
import pytest

TARGETS = ("grid_square", "landed_lamella", "landing_post")


def _finder(col_px: float):
    """A finder that reports `col_px` (and row 10), sure of it."""

    def find(image, pixel_size_m, vertical_scale):
        return col_px, 10.0, 1.0

    return find


def _detect(m, target: str):
    """Acquire an SEM frame and detect `target` in it (one event)."""

    @bpp.stage_decorator([m.sem])
    @bpp.run_decorator()
    def inner():
        yield from bps.mv(m.sem_features.target, target)
        yield from bps.trigger(m.sem, wait=True)
        yield from bps.trigger_and_read([m.sem_features])

    return inner()


def test_the_target_chooses_the_finder(RE, microscope):
    m = microscope
    for k, target in enumerate(TARGETS):
        m.sem_features.finders[target] = _finder(100.0 + k)
    docs: list[tuple[str, dict]] = []
    RE.subscribe(lambda n, d: docs.append((n, d)))
    for target in TARGETS:
        RE(_detect(m, target))
    found = [d["data"][m.sem_features.x_px.name] for n, d in docs if n == "event"]
    assert found == [100.0, 101.0, 102.0]
    # Each detection's descriptor records which target was sought.
    recorded = [d["configuration"]["sem_features"]["data"][m.sem_features.target.name]
                for n, d in docs if n == "descriptor"]  # fmt: skip
    assert recorded == list(TARGETS)
    assert m.sem_features.finder is m.sem_features.finders["grid_square"]  # the default


def test_a_target_without_a_finder_is_refused_by_name(RE, microscope):
    m = microscope
    m.sem_features.finders.pop("landed_lamella")
    RE(_detect(m, "grid_square"))
    before = RE(bps.rd(m.sem_features.x_px)).plan_result
    with pytest.raises(Exception, match=r"no feature finder for target 'landed_lamella'.*"
                       r"configured: grid_square, landing_post"):  # fmt: skip
        RE(_detect(m, "landed_lamella"))
    assert RE(bps.rd(m.sem_features.x_px)).plan_result == before
