"""Learning-rate schedules, computed from how far training has got.

The rate is a pure function of the optimizer step (epochs done × steps per epoch + steps
into this epoch), so a run resumed from ``last.pt`` carries on exactly where it stopped:
nothing but the epoch in the checkpoint is needed. ``constant`` keeps ``lr``; ``cosine``
falls from ``lr`` at the first step to ``lr_min`` after the last step of ``epochs``,
along half a cosine.
"""

from __future__ import annotations

import math
from typing import Literal

LrSchedule = Literal["constant", "cosine"]
SCHEDULES: tuple[LrSchedule, ...] = ("constant", "cosine")

#: the cosine floor when the config gives none, as a fraction of ``lr``
DEFAULT_FLOOR_FRACTION = 0.01


def scheduled_lr(
    schedule: LrSchedule, lr: float, lr_min: float, step: int, total_steps: int
) -> float:
    """The learning rate for optimizer step ``step`` (0-based) of ``total_steps``."""
    if total_steps < 1 or step < 0:
        raise ValueError(f"step {step} of {total_steps}: need 0 <= step and total_steps >= 1")
    if schedule == "constant":
        return lr
    if schedule == "cosine":
        progress = min(step / max(total_steps - 1, 1), 1.0)
        return lr_min + (lr - lr_min) * 0.5 * (1.0 + math.cos(math.pi * progress))
    raise ValueError(f"unknown lr_schedule {schedule!r}; known: {list(SCHEDULES)}")
