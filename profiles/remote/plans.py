"""The lamella workflows with JSON parameters, for the queueserver.

A queued plan's parameters travel as JSON: site names (or poses as dicts), the
protocol's method name (or a YAML path) and the experiment folder stand in for the
`StagePosition`, `LamellaProtocol` and `Experiment` objects the local plans take.
The queueserver replaces the string "microscope" with the microscope device.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bluesky.utils import MsgGenerator, plan

from fibsem_ophyd.backend import StagePosition
from fibsem_ophyd.devices.microscope import Microscope
from fibsem_ophyd.experiment import Experiment
from fibsem_ophyd.milling import LamellaProtocol, default_protocol, load_protocol
from fibsem_ophyd.milling.protocol import SHIPPED_PROTOCOLS
from plans import workflow


def resolve_sites(
    microscope: Microscope, sites: list[str] | dict[str, dict[str, float]]
) -> dict[str, StagePosition]:
    """Names of `microscope.sites`, or name -> pose (dict of StagePosition fields)."""
    if isinstance(sites, str):
        sites = [sites]
    if isinstance(sites, list | tuple):
        unknown = [s for s in sites if s not in microscope.sites]
        if unknown or not sites:
            raise ValueError(
                f"sites: unknown {unknown or 'none given'}; known: {sorted(microscope.sites)}"
            )
        return {name: microscope.sites[name] for name in sites}
    if isinstance(sites, dict) and sites:
        return {name: StagePosition.model_validate(pose) for name, pose in sites.items()}
    raise ValueError(f"sites: a list of site names or name -> pose dict, got {sites!r:.80}")


def resolve_protocol(protocol: str) -> LamellaProtocol:
    """A shipped method ("on-grid", "waffle", "liftout") or a protocol YAML path."""
    if protocol in SHIPPED_PROTOCOLS:
        return default_protocol(protocol)  # type: ignore[arg-type]
    path = Path(protocol).expanduser()
    if not path.is_file():
        raise ValueError(
            f"protocol: {protocol!r} is neither a shipped method "
            f"({', '.join(SHIPPED_PROTOCOLS)}) nor a protocol YAML file"
        )
    return load_protocol(path)


def _summary(exp: Experiment) -> dict[str, Any]:
    return {
        "experiment": str(exp.folder),
        "lamellae": {
            name: {"stages_done": lam.stages_done, "failed": lam.failed}
            for name, lam in exp.lamellae.items()
        },
    }


@plan
def autolamella(
    microscope: Microscope,
    sites: list[str] | dict[str, dict[str, float]],
    protocol: str = "on-grid",
    experiment: str | None = None,
) -> MsgGenerator[dict[str, Any]]:
    """`plans.autolamella` over `sites` with the `protocol` (a method name or a YAML
    path); `experiment`: a folder, resumed when it holds an experiment (default: a new
    temporary one). Returns the experiment's folder and each lamella's stages."""
    poses = resolve_sites(microscope, sites)
    exp = Experiment.create(experiment, poses) if experiment else None
    done = yield from workflow.autolamella(microscope, poses, resolve_protocol(protocol), exp)
    return _summary(done)


@plan
def mill_lamella(
    microscope: Microscope,
    site: str,
    protocol: str = "on-grid",
    experiment: str | None = None,
) -> MsgGenerator[dict[str, Any]]:
    """`autolamella` at one site of `microscope.sites`."""
    return (yield from autolamella(microscope, [site], protocol, experiment))


__all__ = ["autolamella", "mill_lamella", "resolve_protocol", "resolve_sites"]
