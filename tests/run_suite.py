"""`make test`: the suite in two parts, everything but the timing-sensitive tests in
parallel (pytest-xdist, one worker per core, at most 4), then those (marked `serial`)
alone; with one throw-away PostgreSQL cluster, and its catalog template, for every
process of both parts (each would otherwise start its own: seconds each).

    python -m tests.run_suite [pytest arguments for both parts]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.servers import SHARED_POSTGRES_ENV, make_catalog_template, postgres_server

NO_TESTS = 5  # pytest's exit status when nothing was collected
PARTS = (
    ["-m", "not serial", "-n", "auto", "--maxprocesses", "4"],
    ["-m", "serial"],
)


def main(extra: list[str]) -> int:
    env = dict(os.environ)
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="fibsem-suite-") as tmp:
        try:
            server = stack.enter_context(postgres_server())
        except pytest.skip.Exception as why:  # not installed: the PostgreSQL tests skip
            print(f"run_suite: no shared PostgreSQL cluster ({why})", file=sys.stderr)
        else:
            server.template = make_catalog_template(server, Path(tmp) / "template")
            env[SHARED_POSTGRES_ENV] = server.to_env()
        for part in PARTS:
            command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
            code = subprocess.run([*command, *part, *extra], env=env).returncode
            if code not in (0, NO_TESTS):  # arguments may leave a part nothing to run
                return code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
