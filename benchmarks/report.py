"""Run every benchmark once, in one go on one machine, and write benchmarks/README.md:
each benchmark's command, the anchor or target it is measured against, and what it
printed.

    python benchmarks/report.py [--budget-s 3600] [--out benchmarks/README.md] [--only NAME ...]
    python benchmarks/report.py --update --only NAME ...   # rerun some, keep the others

Benchmarks run one after another (never two at once: they measure time), shortest
first; each has a timeout, and once `--budget-s` is spent the rest are listed as not
run. The report says which commit, machine and library versions produced it.
With `--update`, only the `--only` benchmarks run and their sections of the existing
report are replaced, each saying the commit and date it was rerun at; the rest of the
report is kept as the full run wrote it.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Bench:
    name: str
    args: tuple[str, ...]
    anchor: str
    timeout_s: float


BENCHES = (
    Bench("bench_milling_mask.py", (), "the project's own (no outside anchor)", 300),
    Bench(
        "bench_keypoints.py",
        (),
        "target <= 30 ms for all features of one 1536x1024 mask; OpenFIBSEM 100-375 ms "
        "per real mask, median about 250 ms (issue 11)",
        300,
    ),
    Bench(
        "bench_registration.py",
        (),
        "scikit-image `phase_cross_correlation` and OpenCV `phaseCorrelate`, measured beside "
        "it on the same pairs",
        600,
    ),
    Bench("bench_twin_render.py", (), "the project's own (the twin's frame rate)", 300),
    Bench(
        "bench_segmentation_inference.py",
        (),
        "target <= 0.6 s per 1536x1024 frame on 2 CPU cores; smp U-Net resnet34 takes "
        "about 2.2 s in torch and 1.2 s in onnxruntime here (issue 10)",
        600,
    ),
    Bench(
        "bench_sam.py",
        (),
        "targets: embedding <= 3 s, prompt -> mask <= 100 ms (napari labelling issue)",
        600,
    ),
    Bench(
        "bench_data_engine.py",
        (),
        "target: a 100-frame run in the dataset within 2 s of its stop document (issue 11)",
        900,
    ),
    Bench("bench_store.py", (), "the project's own (cost of storing runs)", 900),
    Bench(
        "bench_store_burst.py",
        (),
        "target: every run readable in tiled within 1 s of its stop document (issue 13)",
        900,
    ),
    Bench(
        "bench_store_burst.py",
        ("--runs", "20", "--gap-s", "1"),
        "the same target, runs 1 s apart as a microscope takes them (issue 13)",
        900,
    ),
    Bench(
        "bench_store_sustained.py",
        ("frames",),
        "1,000 frames with a concurrent reader: nothing lost (issue 13)",
        900,
    ),
    Bench(
        "bench_store_sustained.py",
        ("session",),
        "500 runs: memory of the session and the server stays flat (issue 13)",
        1200,
    ),
    Bench(
        "bench_keypoint_accuracy.py",
        (),
        "targets: >= 95 % within 25 px and >= 85 % within 10 px on held-out twin images (issue 11)",
        1200,
    ),
    Bench(
        "bench_segmentation_accuracy.py",
        (),
        "target: mean IoU over the five foreground classes >= 0.93 on held-out twin images; "
        "the best public FIB-SEM model reports 0.931 on real data (issue 10)",
        1800,
    ),
    Bench(
        "bench_autolamella_stress.py",
        (),
        "targets: success >= 95 %, silent failures = 0 (issue 7); every seed and site "
        "(on-grid, waffle, lift-out)",
        3600,
    ),
)


def _versions() -> str:
    names = ("numpy", "opencv-python-headless", "torch", "onnxruntime", "tiled", "bluesky")
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for name in names:
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            continue
    return ", ".join(found)


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    info = Path("/proc/cpuinfo")
    if info.exists():
        for line in info.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def _commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def run(bench: Bench, timeout_s: float) -> tuple[str, float, str]:
    """(status, wall seconds, output) of one benchmark, stopped after `timeout_s`."""
    command = [sys.executable, str(ROOT / "benchmarks" / bench.name), *bench.args]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    start = time.perf_counter()
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout_s
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return f"timed out after {timeout_s:.0f} s", time.perf_counter() - start, out
    wall = time.perf_counter() - start
    status = (
        "ok"
        if done.returncode == 0
        else f"exit status {done.returncode}: the benchmark's own target is not met, or it failed"
    )
    output = done.stdout if done.returncode == 0 else done.stdout + done.stderr[-3000:]
    return status, wall, output


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--budget-s", type=float, default=3600.0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "README.md")
    parser.add_argument("--only", nargs="*", default=None, help="benchmark file names")
    parser.add_argument(
        "--update", action="store_true", help="rerun --only and replace their sections"
    )
    args = parser.parse_args()
    if args.update:
        if not args.only:
            parser.error("--update needs --only NAME ...")
        update(args.out, args.only)
        return
    started = time.perf_counter()
    lines = [
        "# Benchmarks: every figure from one run",
        "",
        "Written by `python benchmarks/report.py` (run it to reproduce; `make bench` runs the",
        "same scripts without the report). Each benchmark prints medians; they ran one after",
        "another on one machine, nothing else running.",
        "",
        f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, commit {_commit()}",
        f"- machine: {_machine()}",
        f"- libraries: {_versions()}",
        "",
    ]
    for bench in BENCHES:
        if args.only and bench.name not in args.only:
            continue
        command = _command(bench)
        lines += [f"## `{command}`", "", f"Anchor: {bench.anchor}.", ""]
        left_s = args.budget_s - (time.perf_counter() - started)
        if left_s < 60:
            lines += ["Not run: the report's time budget was spent.", ""]
            continue
        print(f"== {command}", flush=True)
        status, wall, output = run(bench, min(bench.timeout_s, left_s))
        print(f"   {status} in {wall:.0f} s", flush=True)
        lines += [f"Ran in {wall:.0f} s ({status}):", "", "```", output.rstrip(), "```", ""]
        args.out.write_text("\n".join(lines) + "\n")  # what is done so far survives a crash
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out} in {time.perf_counter() - started:.0f} s")


def _sections(text: str) -> tuple[str, dict[str, str]]:
    """The report's head, and its sections by command (in order)."""
    head, *parts = text.split("\n## `")
    sections = {}
    for part in parts:
        sections[part.split("`", 1)[0]] = "## `" + part.rstrip("\n") + "\n"
    return head.rstrip("\n") + "\n", sections


def _command(bench: Bench) -> str:
    return " ".join(["python", f"benchmarks/{bench.name}", *bench.args])


def update(out: Path, names: list[str]) -> None:
    """Rerun `names` and put their sections in place of the old ones in `out`."""
    known = {b.name for b in BENCHES}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown benchmarks {unknown}; known: {', '.join(sorted(known))}")
    head, sections = _sections(out.read_text())
    for bench in (b for b in BENCHES if b.name in names):
        command = _command(bench)
        print(f"== {command}", flush=True)
        status, wall, output = run(bench, bench.timeout_s)
        print(f"   {status} in {wall:.0f} s", flush=True)
        when = f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC"
        sections[command] = "\n".join([
            f"## `{command}`", "", f"Anchor: {bench.anchor}.", "",
            f"Rerun alone at commit {_commit()}, {when} (the other sections are from the "
            f"run named at the top); ran in {wall:.0f} s ({status}):",
            "", "```", output.rstrip(), "```", "",
        ])  # fmt: skip
    order = [_command(b) for b in BENCHES if _command(b) in sections]
    out.write_text(head + "\n" + "\n".join(sections[c] for c in order))
    print(f"updated {', '.join(names)} in {out}")


if __name__ == "__main__":
    main()
