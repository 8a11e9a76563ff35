"""Generate a labelled dataset from the twin.

fibsem-ophyd-twin-dataset --output data/twin --n-images 400 --seeds 0-9
python -m fibsem_ophyd.sim.groundtruth --output data/twin --n-images 400 --seeds 0-9
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .dataset import BEAMS, DatasetRequest, write_dataset
from .labels import STAGES


def parse_seeds(text: str) -> tuple[int, ...]:
    """'3', '0-9' or '1,4,7-8' -> seeds; a clear error otherwise."""
    seeds: list[int] = []
    try:
        for part in text.split(","):
            lo, _, hi = part.strip().partition("-")
            start, stop = int(lo), int(hi) if hi else int(lo)
            if stop < start:
                raise ValueError
            seeds += range(start, stop + 1)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--seeds {text!r}: expected numbers and ranges like '0-9' or '1,4,7-8'"
        ) from None
    return tuple(seeds)


def _names(allowed: Sequence[str], flag: str):
    def parse(text: str) -> tuple[str, ...]:
        names = tuple(n.strip() for n in text.split(",") if n.strip())
        bad = [n for n in names if n not in allowed]
        if bad or not names:
            raise argparse.ArgumentTypeError(f"{flag} {text!r}: choose from {','.join(allowed)}")
        return names

    return parse


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Labelled SEM/FIB images from the twin.")
    parser.add_argument("--output", required=True, type=Path, help="dataset folder")
    parser.add_argument("--n-images", required=True, type=int, help="how many images")
    parser.add_argument("--seeds", required=True, type=parse_seeds, help="e.g. 0-9 or 1,5")
    parser.add_argument("--stages", type=_names(STAGES, "--stages"), default=STAGES,
                        help=f"comma-separated, default all: {','.join(STAGES)}")  # fmt: skip
    parser.add_argument("--beams", type=_names(BEAMS, "--beams"), default=BEAMS)
    parser.add_argument("--width", type=int, default=1536, help="pixels (default 1536)")
    parser.add_argument("--height", type=int, default=1024, help="pixels (default 1024)")
    parser.add_argument("--reduce", type=int, default=1, help="write frames N times smaller")
    parser.add_argument("--overwrite", action="store_true", help="write into a non-empty folder")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    try:
        request = DatasetRequest(
            args.output, args.n_images, args.seeds, args.stages, args.beams,
            args.width, args.height, args.overwrite, args.reduce,
        )  # fmt: skip
    except ValueError as error:
        parser.error(str(error))

    def progress(done: int, total: int) -> None:
        if not args.quiet and (done % 20 == 0 or done == total):
            print(f"{done}/{total} images", file=sys.stderr, flush=True)

    names = write_dataset(request, progress)
    print(f"wrote {len(names)} images to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
