"""Start-document metadata shared by every plan."""

from __future__ import annotations

from typing import Any

from fibsem_ophyd.devices.microscope import Microscope


def plan_md(
    microscope: Microscope, plan_name: str, plan_args: dict[str, Any], md: dict | None
) -> dict:
    """The start document: plan name and args, the system fingerprint, user metadata."""
    return {
        "plan_name": plan_name,
        "plan_args": {k: repr(v) for k, v in plan_args.items()},
        **microscope.run_metadata(),
        **(md or {}),
    }
