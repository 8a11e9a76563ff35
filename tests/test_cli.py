"""The `fibsem-ophyd` command: the IPython profile starts a working session, and `log`
lists what the runs did (from tiled)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "FIBSEM_OPHYD_DATA": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),  # where the IPython profile goes
    }


@pytest.mark.slow
def test_ipython_profile_runs_a_plan_and_log_lists_it(tmp_path):
    code = (
        "RE(acquire_image(microscope, 'ion', md={'site': 'from-profile'}));"
        "print('MODEL', microscope.fingerprint.model)"
    )
    out = subprocess.run(
        [sys.executable, "-m", "profiles.cli", "ipython", "-c", code],
        env=_env(tmp_path), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    assert "MODEL Digital Twin FIB-SEM" in out.stdout

    log = subprocess.run(
        [sys.executable, "-m", "profiles.cli", "log", "--limit", "5"],
        env=_env(tmp_path), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert log.returncode == 0, log.stderr[-3000:]
    assert "acquire_image" in log.stdout
    assert "from-profile" in log.stdout
    assert "success" in log.stdout
