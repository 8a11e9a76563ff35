"""One control context per viewer: the runner, its Qt bridge and the layer presenter,
shared by every control, live-view and supervision widget docked in that viewer."""

from __future__ import annotations

from dataclasses import dataclass

import napari

from ..runner import PlanRunner
from ..session import current_runner
from .bridge import RunnerBridge
from .presenter import LayerPresenter


@dataclass
class ControlContext:
    runner: PlanRunner
    bridge: RunnerBridge
    presenter: LayerPresenter


_contexts: dict[int, ControlContext] = {}


def _unwrapped(viewer: napari.Viewer) -> napari.Viewer:
    """The viewer itself: napari hands each plugin widget its own public-only proxy of it."""
    return getattr(viewer, "__wrapped__", viewer)


def control_context(viewer: napari.Viewer, runner: PlanRunner | None = None) -> ControlContext:
    """The viewer's context, made on first use with `runner` (default: `current_runner()`)."""
    key = id(_unwrapped(viewer))
    ctx = _contexts.get(key)
    stale = ctx is None or _unwrapped(ctx.presenter.viewer) is not _unwrapped(viewer)
    if stale or (runner is not None and ctx.runner is not runner):
        chosen = runner or current_runner()
        bridge = RunnerBridge(chosen)
        ctx = ControlContext(chosen, bridge, LayerPresenter(viewer, bridge))
        _contexts[key] = ctx
    return ctx
