"""Sputter coater: a conductive metal layer over the whole specimen.

Time and current default to the configured `sputter_coater.default_time_s` /
`default_current_a` and may not exceed `max_time_s` / `max_current_a`; with
`sputter_coater.enabled` false, coating is refused.
"""

from __future__ import annotations

from ophyd_async.core import AsyncStatus, StandardReadable, soft_signal_r_and_setter
from ophyd_async.core import StandardReadableFormat as Format

from ..backend import SputterCoaterBackend
from ..ranges import in_range
from .interlocks import Interlocks
from .limits import SputterLimits


class SputterCoater(StandardReadable):
    def __init__(
        self,
        backend: SputterCoaterBackend,
        interlocks: Interlocks,
        limits: SputterLimits,
        name: str = "",
    ) -> None:
        self.backend = backend
        self.limits = limits
        self._interlocks = interlocks
        with self.add_children_as_readables(Format.CONFIG_SIGNAL):
            self.last_duration_s, self._set_last = soft_signal_r_and_setter(float, 0.0, units="s")
            self.last_current_a, self._set_current = soft_signal_r_and_setter(float, 0.0, units="A")
        super().__init__(name=name)

    def check(
        self, duration_s: float | None = None, current_a: float | None = None
    ) -> tuple[float, float]:
        """(duration_s, current_a) with the configured defaults for None, checked against
        the configured maxima and `sputter_coater.enabled`; ValueError naming the field
        otherwise."""
        lim = self.limits
        duration = in_range(
            "sputter_coater.duration_s",
            lim.default_time_s if duration_s is None else duration_s,
            0.0,
            lim.max_time_s,
            "s",
            lo_open=True,
            config_key="sputter_coater.max_time_s",
        )
        current = in_range(
            "sputter_coater.current_a",
            lim.default_current_a if current_a is None else current_a,
            0.0,
            lim.max_current_a,
            "A",
            lo_open=True,
            config_key="sputter_coater.max_current_a",
        )
        if not lim.enabled:
            raise ValueError("refused to sputter coat: sputter_coater.enabled is false")
        return duration, current

    @AsyncStatus.wrap
    async def coat(self, duration_s: float | None = None, current_a: float | None = None) -> None:
        """Sputter for `duration_s` seconds at plasma current `current_a` amperes (None:
        the configured defaults)."""
        duration, current = self.check(duration_s, current_a)
        with self._interlocks.coating():  # venting and insertions refused until it ends
            await self.backend.coat(duration, current)
        self._set_last(duration)
        self._set_current(current)
