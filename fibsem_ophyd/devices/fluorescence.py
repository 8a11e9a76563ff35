"""Integrated fluorescence microscope: objective focus, channel, exposure, and its
camera (a FrameDetector writing 16-bit frames)."""

from __future__ import annotations

import numpy as np
from ophyd_async.core import PathProvider, StandardReadable

from ..backend import FluorescenceBackend
from ..ranges import check_choice, check_range
from ._backed import backed_rw
from .axis import Axis
from .frame_detector import FrameDetector, FrameSource
from .interlocks import Interlocks
from .limits import AxisLimits, FluorescenceLimits


class FluorescenceMicroscope(StandardReadable):
    def __init__(
        self, backend: FluorescenceBackend, limits: FluorescenceLimits, name: str = ""
    ) -> None:
        self.backend = backend
        self.limits = limits

        async def move_objective(value: float) -> None:
            await backend.move_objective(value)

        with self.add_children_as_readables():
            self.objective = Axis(
                "fluorescence.objective_position_m",
                AxisLimits(limits.objective_min_m, limits.objective_max_m, "m"),
                read=lambda: float(backend.objective_position_m),
                move=move_objective,
            )
        # Read with every event (plans change them between frames of one run); the
        # camera also carries them in its configuration.
        with self.add_children_as_readables():
            self.channel = backed_rw(
                str,
                backend,
                "channel",
                field="fluorescence.channel",
                check=check_choice("fluorescence.channel", list(limits.channels)),
            )
            self.exposure_time_s = backed_rw(
                float,
                backend,
                "exposure_time_s",
                field="fluorescence.exposure_time_s",
                units="s",
                check=check_range(
                    "fluorescence.exposure_time_s",
                    limits.exposure_min_s,
                    limits.exposure_max_s,
                    "s",
                ),
            )
            self.excitation_power = backed_rw(
                float,
                backend,
                "excitation_power",
                field="fluorescence.excitation_power",
                check=check_range("fluorescence.excitation_power", 0.0, 1.0, ""),
            )
        super().__init__(name=name)


def fluorescence_camera(
    fm: FluorescenceMicroscope,
    interlocks: Interlocks,
    path_provider: PathProvider,
    name: str = "",
) -> FrameDetector:
    """The FM camera: 16-bit frames, configuration = channel, exposure, focus."""

    source = FrameSource(
        shape=lambda: fm.backend.frame_shape(),
        dtype=np.dtype(np.uint16),
        grab=fm.backend.acquire,
        check=lambda: interlocks.require_vacuum("image in fluorescence"),
    )
    return FrameDetector(
        source,
        path_provider,
        config_signals=[fm.channel, fm.exposure_time_s, fm.excitation_power],
        name=name,
    )
