"""`make demo`: AutoLamella on the digital twin — every protocol stage over ≥4 lamella
sites with stage drift and positioning error on, in automatic supervision, every run
stored in the embedded tiled catalog. Prints a table per site and saves a figure of
each site before and after milling."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from fibsem_ophyd.connect import twin_lamella_report
from fibsem_ophyd.experiment import Experiment
from fibsem_ophyd.milling import LamellaProtocol, default_protocol, milling_stages
from fibsem_ophyd.storage import read_images
from plans.workflow import autolamella, workflow_stages

from .session import start_session

N_SITES = 4
# Drift and positioning error on: the workflow must find and align to stay on target.
DEMO_TWIN: dict[str, Any] = {
    "stage_position_error_m": 1.0e-6,
    "stage_drift_m_per_s": (0.05e-9, -0.05e-9, 0.0),
    "seed": 7,
}
THICKNESS_TOLERANCE_M = 20e-9
CENTRE_TOLERANCE_M = 0.5e-6


def milling_time_s(protocol: LamellaProtocol) -> float:
    """Estimated milling time of one lamella (volume / (rate × current), summed)."""
    return sum(
        s.estimated_time_s()
        for stage in workflow_stages(protocol)
        if stage != "select"
        for s in milling_stages(protocol, stage)
    )


def summarise(m: Any, experiment: Experiment, protocol: LamellaProtocol) -> list[dict[str, Any]]:
    """One row per lamella: stages done, thickness, centre error, twin time, success."""
    wanted = workflow_stages(protocol)
    rows = []
    for name, lam in experiment.lamellae.items():
        report = twin_lamella_report(m, name)
        twin_s = sum(h.clock_stop_s - h.clock_start_s for h in lam.history)
        thickness, centre = report["thickness_m"], report["centre_error_m"]
        ok = (
            lam.failed is None
            and all(lam.done(s) for s in wanted)
            and thickness is not None
            and abs(thickness - protocol.lamella.target_thickness_m) <= THICKNESS_TOLERANCE_M
            and centre is not None
            and centre <= CENTRE_TOLERANCE_M
        )
        rows.append(
            {
                "lamella": name,
                "stages": f"{len(lam.stages_done)}/{len(wanted)}",
                "thickness_nm": np.nan if thickness is None else thickness * 1e9,
                "centre_um": np.nan if centre is None else centre * 1e6,
                "twin_min": twin_s / 60,
                "success": ok,
                "failed": lam.failed or "",
            }
        )
    return rows


def format_table(rows: list[dict[str, Any]], milling_s: float) -> str:
    head = (
        f"{'lamella':12} {'stages':>6} {'thickness nm':>12} {'centre err µm':>13} "
        f"{'twin min':>8} {'of milling':>10}  result"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        ratio = r["twin_min"] * 60 / milling_s if milling_s else np.nan
        lines.append(
            f"{r['lamella']:12} {r['stages']:>6} {r['thickness_nm']:12.1f} "
            f"{r['centre_um']:13.3f} {r['twin_min']:8.1f} {ratio:9.0%}  "
            f"{'success' if r['success'] else 'FAIL ' + r['failed']}"
        )
    return "\n".join(lines)


def _last_frame(client: Any, uid: str, stream: str) -> np.ndarray:
    run = read_images(client, uid, stream)
    stack = next(iter(run.images.values()))
    return stack.reshape(-1, *stack.shape[-2:])[-1]


def save_figure(client: Any, runs: list[tuple[str, str, str]], path: Path) -> None:
    """Per site: before (its first reference image, taken when the site was found) and
    after (the last image of its last milling run), both read back from tiled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from plans.milling import IMAGES

    names = sorted({lam for lam, _, _ in runs if lam})
    fig, axes = plt.subplots(2, len(names), figsize=(3.2 * len(names), 5.4), squeeze=False)
    for j, name in enumerate(names):
        refs = [u for lam, plan, u in runs if lam == name and plan == "take_reference"]
        milled = [u for lam, plan, u in runs if lam == name and plan == "run_milling"]
        panels = []
        if refs:
            panels.append(("before", _last_frame(client, refs[0], "reference")))
        if milled:
            panels.append(("after", _last_frame(client, milled[-1], IMAGES)))
        for i, (label, img) in enumerate(panels):
            axes[i][j].imshow(img, cmap="gray", vmin=0, vmax=255)
            axes[i][j].set_title(f"{name} {label}", fontsize=9)
        for i in range(2):
            axes[i][j].axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def run_demo(out: Path, data_dir: str | None = None, config: str | None = None) -> int:
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    protocol = default_protocol("on-grid")
    session = start_session(config, data_dir=data_dir, twin=DEMO_TWIN)
    try:
        m, RE = session.microscope, session.RE
        print(f"microscope: {m.fingerprint.manufacturer} {m.fingerprint.model}")
        print(f"store: {session.store.uri if session.store else '-'}")
        print(
            f"protocol: {protocol.name} (target thickness "
            f"{protocol.lamella.target_thickness_m * 1e9:.0f} nm); drift and stage error on"
        )
        sites = dict(list(m.sites.items())[:N_SITES])
        experiment = Experiment.create(out / f"experiment-{int(time.time())}", sites, "demo")
        runs: list[tuple[str, str, str]] = []
        token = RE.subscribe(
            lambda _n, doc: runs.append((doc.get("lamella", ""), doc["plan_name"], doc["uid"])),
            "start",
        )
        RE(autolamella(m, sites, protocol, experiment))
        RE.unsubscribe(token)
        rows = summarise(m, experiment, protocol)
        milling_s = milling_time_s(protocol)
        print()
        print(format_table(rows, milling_s))
        ok = sum(r["success"] for r in rows)
        print(
            f"\n{ok}/{len(rows)} lamellae succeeded; milling time per lamella "
            f"{milling_s / 60:.1f} min; {len(runs)} runs stored in tiled"
        )
        if session.store is not None:
            save_figure(session.catalog(), runs, out / "lamellae.png")
            print(f"figure: {out / 'lamellae.png'}")
        print(f"experiment: {experiment.folder}")
        print(f"wall time: {time.monotonic() - t0:.1f} s")
        return 0 if ok == len(rows) else 1
    finally:
        session.close()


__all__ = ["run_demo"]
