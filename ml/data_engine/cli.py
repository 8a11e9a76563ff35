"""``fibsem-ophyd-data-engine``: replay runs from tiled into a dataset; curate splits.

    fibsem-ophyd-data-engine replay --uri http://127.0.0.1:8000/api/v1 --api-key-file KEY \
        --dataset datasets/old [--uid UID ...] [--where lamella=lamella_01 ...]
    fibsem-ophyd-data-engine curate --dataset datasets/old --test-fraction 0.2 --seed 0 \
        [--strata experiment,site] [--output datasets/old-split]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pydantic import ValidationError

from .curate import SplitConfig, curate
from .replay import connect, replay


def _where(items: list[str]) -> dict[str, str]:
    pairs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"--where {item!r}: use KEY=VALUE (a start-document key)")
        pairs[key] = value
    return pairs


def _api_key(args: argparse.Namespace) -> str | None:
    if args.api_key_file:
        path = Path(args.api_key_file)
        if not path.is_file():
            raise SystemExit(f"--api-key-file {path}: no such file")
        return path.read_text().strip()
    return os.environ.get("TILED_API_KEY")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="fibsem-ophyd-data-engine",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("replay", help="add runs already in tiled to a dataset")
    rep.add_argument(
        "--uri", required=True, help="tiled API URI, e.g. http://127.0.0.1:8000/api/v1"
    )
    rep.add_argument("--api-key-file", help="file holding the API key (else $TILED_API_KEY)")
    rep.add_argument("--dataset", required=True, type=Path)
    rep.add_argument("--uid", action="append", help="a run uid (repeat); default: all runs")
    rep.add_argument("--where", action="append", default=[], help="start-document KEY=VALUE")
    cur = sub.add_parser("curate", help="train/test splits stratified by experiment/site")
    cur.add_argument("--dataset", required=True, type=Path)
    cur.add_argument("--test-fraction", type=float, default=0.2)
    cur.add_argument("--seed", type=int, default=0)
    cur.add_argument("--strata", default="experiment,site", help="metadata.csv columns")
    cur.add_argument("--output", type=Path, help="write train/ and test/ datasets here")
    args = parser.parse_args(argv)
    if args.command == "replay":
        catalog = connect(args.uri, _api_key(args))
        added = replay(catalog, args.dataset, args.uid, _where(args.where))
        for run in added:
            state = "added" if run.written else "already in the dataset"
            print(
                f"{run.uid}  {state}: {run.images} images, {run.keypoints} keypoints, "
                f"{run.answers} answers ({run.corrected} corrected, {run.accepted} accepted)"
            )
        return 0
    try:
        config = SplitConfig(
            test_fraction=args.test_fraction,
            seed=args.seed,
            strata=tuple(s for s in args.strata.split(",") if s),
        )
    except ValidationError as exc:
        raise SystemExit(f"curate: {exc}") from None
    result = curate(args.dataset, config, args.output)
    n_test = sum(s == "test" for s, _ in result.values())
    strata = len({stratum for _, stratum in result.values()})
    print(
        f"{len(result) - n_test} train, {n_test} test over {strata} strata -> "
        f"{args.dataset / 'splits.csv'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
