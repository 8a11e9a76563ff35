"""Benchmark: lamella workflows under harsh conditions — success rate and silent failures.

Runs `autolamella` on the twin (on-grid, waffle and lift-out protocols; every site of
each twin) over seeds, stage repeatability errors up to 3 µm and drift up to 0.2 nm/s in
a seeded direction. The workflow never reads the twin's truth; afterwards the twin's
material model judges each site: *off target* when there is no lamella, its centre is
more than 0.5 µm from the site, or its thickness is outside target ± 20 nm.

- success: the workflow finished the site and the truth says it is on target;
- flagged: the workflow marked the site failed (with its reason);
- silent failure: off target, but the workflow did not mark it failed (target: 0).

With `--guidance model` the shipped segmentation model finds the targets it can stand
in for (profiles/guidance.py: the needle tip, a landing post, a landed lamella; or those
named by `--model-targets`) in place of the classical finders; the workflows' checks are
the same. With `--refine` the classical finder places what the model found (taken within
25 px of the model's answer, else the model's answer stands).

Run: .venv/bin/python benchmarks/bench_autolamella_stress.py [--quick] [--workers N]
     [--methods on-grid,waffle,liftout] [--seeds 8,9] [--sites N]
     [--guidance classical|model] [--model-targets needle,landing_post,landed_lamella]
     [--refine]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

CENTRE_TOLERANCE_M = 0.5e-6
THICKNESS_TOLERANCE_M = 20e-9

# (protocol, seed, stage repeatability error m, drift m/s); every twin has 5 sites.
CONFIGS = [
    ("on-grid", 1, 2.0e-6, 0.10e-9),
    ("on-grid", 2, 3.0e-6, 0.15e-9),
    ("on-grid", 3, 2.5e-6, 0.20e-9),
    ("on-grid", 4, 3.0e-6, 0.20e-9),
    ("waffle", 5, 2.0e-6, 0.10e-9),
    ("waffle", 6, 3.0e-6, 0.20e-9),
    ("waffle", 7, 2.5e-6, 0.15e-9),
    ("liftout", 8, 2.0e-6, 0.10e-9),
    ("liftout", 9, 3.0e-6, 0.20e-9),
]
QUICK = [
    ("on-grid", 1, 3.0e-6, 0.2e-9),
    ("waffle", 6, 3.0e-6, 0.2e-9),
    ("liftout", 9, 3.0e-6, 0.2e-9),
]


def run_config(
    method: str,
    seed: int,
    error_m: float,
    drift_m_per_s: float,
    n_sites: int | None = None,
    model_targets: tuple[str, ...] = (),
    refine: bool = False,
) -> list[dict]:
    """One twin, every site (or its first `n_sites`) through the protocol; one row per
    site. A lift-out site is judged on its post, where it was thinned. `model_targets`:
    found by the shipped model instead of the classical finders (with `refine`, placed
    by the classical finder near the model's answer)."""
    import numpy as np
    from bluesky import RunEngine
    from ophyd_async.core import StaticPathProvider, UUIDFilenameProvider

    from fibsem_ophyd.connect import connect_microscope, twin_lamella_report
    from fibsem_ophyd.experiment import Experiment
    from fibsem_ophyd.milling import default_protocol
    from plans.workflow import autolamella
    from profiles.detectors import wire_detectors

    angle = np.random.default_rng(seed).uniform(0, 2 * np.pi)
    drift = (drift_m_per_s * math.cos(angle), drift_m_per_s * math.sin(angle), 0.0)
    folder = Path(tempfile.mkdtemp(prefix="stress-"))
    RE = RunEngine({}, call_returns_result=True)
    twin = {"seed": seed, "stage_position_error_m": error_m, "stage_drift_m_per_s": drift}
    provider = StaticPathProvider(UUIDFilenameProvider(), folder)
    m = connect_microscope(path_provider=provider, twin=twin)
    if model_targets:
        from ml.detection.model_keypoints import ModelKeypoints, file_sha256
        from ml.segmentation.shipped import load_shipped_model, shipped_model_path

        model = ModelKeypoints(load_shipped_model(), file_sha256(shipped_model_path()))
        wire_detectors(m, model=model, model_targets=model_targets, model_refinement=refine)
    else:
        wire_detectors(m)
    protocol = default_protocol(method)
    sites = dict(list(m.sites.items())[:n_sites])
    exp = Experiment.create(folder / "experiment", sites)
    t0 = time.monotonic()
    RE(autolamella(m, sites, protocol, exp))
    wall_s = time.monotonic() - t0
    target = protocol.lamella.target_thickness_m
    rows = []
    for name, lam in exp.lamellae.items():
        r = twin_lamella_report(m, name)
        thickness, centre = r["thickness_m"], r["centre_error_m"]
        on_target = (
            bool(r["exists"])
            and centre is not None
            and centre <= CENTRE_TOLERANCE_M
            and thickness is not None
            and abs(thickness - target) <= THICKNESS_TOLERANCE_M
        )
        rows.append(
            {
                "method": method, "seed": seed, "error_um": error_m * 1e6,
                "drift_nm_s": drift_m_per_s * 1e9, "site": name,
                "flagged": lam.failed, "on_target": on_target,
                "thickness_nm": None if thickness is None else thickness * 1e9,
                "centre_um": None if centre is None else centre * 1e6,
                "wall_s_per_site": wall_s / len(sites),
            }
        )  # fmt: skip
    RE.halt() if RE.state != "idle" else None
    return rows


def _line(r: dict) -> str:
    t = "-" if r["thickness_nm"] is None else f"{r['thickness_nm']:.0f}"
    c = "-" if r["centre_um"] is None else f"{r['centre_um']:.2f}"
    if r["flagged"]:
        verdict = f"flagged: {r['flagged'][:300]}"
    else:
        verdict = "success" if r["on_target"] else "SILENT FAILURE"
    return (
        f"{r['method']:8} seed {r['seed']:2} err {r['error_um']:.1f} µm drift "
        f"{r['drift_nm_s']:.2f} nm/s {r['site']:11} thickness {t:>4} nm centre {c:>5} µm  "
        f"{verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one twin per method")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--methods", default="on-grid,waffle,liftout", help="comma-separated")
    parser.add_argument("--seeds", default=None, help="comma-separated (default: all)")
    parser.add_argument("--sites", type=int, default=None, help="first N sites of each twin")
    parser.add_argument("--guidance", choices=("classical", "model"), default="classical")
    parser.add_argument(
        "--model-targets",
        default="needle,landing_post,landed_lamella",
        help="with --guidance model: the targets the model finds (comma-separated)",
    )
    parser.add_argument(
        "--refine",
        action="store_true",
        help="with --guidance model: the classical finder places what the model found",
    )
    args = parser.parse_args()
    targets = tuple(args.model_targets.split(",")) if args.guidance == "model" else ()
    from profiles.guidance import MODEL_FEATURES

    if set(targets) - set(MODEL_FEATURES):
        parser.error(f"--model-targets: the model can guide only {', '.join(MODEL_FEATURES)}")
    methods = set(args.methods.split(","))
    seeds = None if args.seeds is None else {int(x) for x in args.seeds.split(",")}
    configs = [
        (*c, args.sites, targets, args.refine and bool(targets))
        for c in (QUICK if args.quick else CONFIGS)
        if c[0] in methods and (seeds is None or c[1] in seeds)
    ]
    if not configs:
        parser.error(f"no configuration has methods {sorted(methods)} and seeds {args.seeds}")
    t0 = time.monotonic()
    rows: list[dict] = []
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for result in pool.map(run_config, *zip(*configs, strict=True)):
            for r in result:
                print(_line(r), flush=True)
            rows.extend(result)
    n = len(rows)
    success = sum(1 for r in rows if r["on_target"] and not r["flagged"])
    silent = sum(1 for r in rows if not r["on_target"] and not r["flagged"])
    flagged = [r for r in rows if r["flagged"]]
    flagged_on_target = sum(1 for r in flagged if r["on_target"])
    print()
    methods = Counter(r["method"] for r in rows)
    print(f"site-runs: {n} ({', '.join(f'{k}: {v}' for k, v in methods.items())})")
    print(f"guidance: {args.guidance}" + (f" ({', '.join(targets)})" if targets else ""))
    print(f"success rate: {success}/{n} = {success / n:.1%} (target >= 95 %)")
    print(f"silent failures: {silent} (target 0)")
    print(f"flagged failed: {len(flagged)} ({flagged_on_target} of them on target by the truth)")
    reasons = Counter(r["flagged"].split(":")[0] + ": " + r["flagged"].split(":")[1].strip()
                      for r in flagged)  # fmt: skip
    for reason, count in reasons.most_common():
        print(f"  {count} x {reason}")
    per_site = [r["wall_s_per_site"] for r in rows]
    print(f"wall time per site: median {statistics.median(per_site):.1f} s; "
          f"total {time.monotonic() - t0:.0f} s with {args.workers} workers")  # fmt: skip
    sys.exit(0 if silent == 0 else 1)


if __name__ == "__main__":
    main()
