"""`make demo`: SEM and FIB images at three lamella sites on the digital twin, stored
in the embedded tiled catalog, read back and summarised, plus a PNG montage."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import bluesky.plan_stubs as bps
import numpy as np

from fibsem_ophyd.storage import read_images
from plans import acquire_image

from .session import start_session

N_SITES = 3


def _row(run: Any, beam: str) -> dict[str, Any]:
    (key,) = run.images
    stack = run.images[key]
    frame = stack.reshape(-1, *stack.shape[-2:])[0]  # (events, collections, H, W)
    det_cfg = next(iter(run.configuration.values()))["data"]
    pixel = next(v for k, v in det_cfg.items() if k.endswith("pixel_size_m"))
    stage = {
        k.split("-")[-1]: float(v[0]) for k, v in run.readings.items() if k.startswith("stage-")
    }
    return {
        "uid": run.uid[:8],
        "site": run.start.get("site", ""),
        "beam": beam,
        "x_mm": stage.get("x", np.nan) * 1e3,
        "y_mm": stage.get("y", np.nan) * 1e3,
        "z_mm": stage.get("z", np.nan) * 1e3,
        "t_deg": stage.get("t", np.nan),
        "pixel_nm": float(pixel) * 1e9,
        "mean": float(frame.mean()),
        "frame": frame,
    }


def _table(rows: list[dict[str, Any]]) -> str:
    head = f"{'run':8}  {'site':8} {'beam':8} {'x mm':>8} {'y mm':>8} {'z mm':>7} "
    head += f"{'t deg':>6} {'pixel nm':>9} {'mean':>7}"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['uid']:8}  {r['site']:8} {r['beam']:8} {r['x_mm']:8.4f} {r['y_mm']:8.4f} "
            f"{r['z_mm']:7.4f} {r['t_deg']:6.1f} {r['pixel_nm']:9.2f} {r['mean']:7.1f}"
        )
    return "\n".join(lines)


def _montage(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sites = sorted({r["site"] for r in rows})
    fig, axes = plt.subplots(2, len(sites), figsize=(4 * len(sites), 6), squeeze=False)
    for j, site in enumerate(sites):
        for i, beam in enumerate(("electron", "ion")):
            r = next(r for r in rows if r["site"] == site and r["beam"] == beam)
            ax = axes[i][j]
            ax.imshow(r["frame"], cmap="gray", vmin=0, vmax=255)
            ax.set_title(f"{site} {'SEM' if beam == 'electron' else 'FIB'} {r['uid']}", fontsize=9)
            ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def run_demo(out: Path, data_dir: str | None = None, config: str | None = None) -> int:
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    session = start_session(config, data_dir=data_dir)
    try:
        m, RE = session.microscope, session.RE
        print(f"microscope: {m.fingerprint.manufacturer} {m.fingerprint.model}")
        print(f"store: {session.store.uri if session.store else '-'}")
        uids: list[tuple[str, str]] = []
        for name, pose in list(m.sites.items())[:N_SITES]:
            RE(bps.mv(m.stage, pose))
            for beam in ("electron", "ion"):
                result = RE(acquire_image(m, beam, md={"site": name}))
                uids.append((result.run_start_uids[0], beam))
        client = session.catalog()
        rows = [_row(read_images(client, uid), beam) for uid, beam in uids]
        print()
        print(_table(rows))
        montage = out / "montage.png"
        _montage(rows, montage)
        print(f"\n{len(rows)} images from {N_SITES} sites stored and read back from tiled")
        print(f"montage: {montage}")
        print(f"twin clock: {m.backend.clock_s():.1f} s; wall: {time.monotonic() - t0:.1f} s")
    finally:
        session.close()
    return 0
