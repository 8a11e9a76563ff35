"""What the session adds to the RunEngine for safety.

`RE.halt()` is bluesky's emergency stop: it ends the plan without running any cleanup
plan (no `finalize_wrapper`), so nothing a plan could do would leave the microscope
safe. The RunEngine's state hook does it instead: entering 'halting' stops milling and
blanks both beams at once (`Microscope.emergency_stop`).
"""

from __future__ import annotations

from typing import Any

from bluesky import RunEngine


def install_halt_safety(RE: RunEngine, microscope: Any) -> None:
    """Make `RE.halt()` stop milling and blank the beams (keeps any earlier hook)."""
    previous = RE.state_hook

    def hook(new_state: str, old_state: str) -> None:
        if new_state == "halting":
            microscope.emergency_stop()
        if previous is not None:
            previous(new_state, old_state)

    RE.state_hook = hook
