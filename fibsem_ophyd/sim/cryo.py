"""The twin's cryo stage: its temperature heads for the setpoint at the set rate, on the
twin clock — any twin time that passes (moves, scans, milling, waiting) brings it closer.

The state is the temperature at the last change (`since_s`), so the temperature at any
later time follows without stepping: a straight ramp that stops at the setpoint.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# The rate a twin's stage controller starts with; cool_down/warm_up always set their own.
START_RATE_K_PER_MIN = 5.0


@dataclass
class CryoStage:
    temperature_k: float  # at `since_s`
    target_k: float
    rate_k_per_min: float
    since_s: float = 0.0

    def temperature_at(self, now_s: float) -> float:
        """Stage temperature (K) at twin time `now_s` (>= `since_s`)."""
        step_k = self.rate_k_per_min / 60.0 * max(0.0, now_s - self.since_s)
        gap_k = self.target_k - self.temperature_k
        if abs(gap_k) <= step_k:
            return self.target_k
        return self.temperature_k + math.copysign(step_k, gap_k)

    def time_to_target_s(self, now_s: float) -> float:
        """Twin seconds from `now_s` until the setpoint is reached (0 when there)."""
        gap_k = abs(self.target_k - self.temperature_at(now_s))
        return 0.0 if gap_k == 0.0 else gap_k / (self.rate_k_per_min / 60.0)

    def change(
        self, now_s: float, target_k: float | None = None, rate_k_per_min: float | None = None
    ) -> None:
        """A new setpoint and/or rate from `now_s` on (the ramp so far is kept)."""
        self.temperature_k = self.temperature_at(now_s)
        self.since_s = now_s
        if target_k is not None:
            self.target_k = float(target_k)
        if rate_k_per_min is not None:
            if not rate_k_per_min > 0:
                raise ValueError(f"cryo rate_k_per_min must be > 0, got {rate_k_per_min}")
            self.rate_k_per_min = float(rate_k_per_min)
