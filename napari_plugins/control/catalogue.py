"""The plans the control widgets may ask for: the table lives in `plans.catalogue`, where
the queueserver's worker profile reads it too."""

from plans.catalogue import CATALOGUE, PlanFactory, build, read_status, remember_position

__all__ = ["CATALOGUE", "PlanFactory", "build", "read_status", "remember_position"]
