"""The README's Python example works as written (against a fresh store folder)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # tens of seconds: started first (tests/conftest.py)

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_runs(tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README has no python example"
    script = tmp_path / "example.py"
    script.write_text(blocks[0])
    env = {**os.environ, "FIBSEM_OPHYD_DATA": str(tmp_path / "data")}
    out = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "['select', 'setup', 'rough', 'polish']" in out.stdout
    assert "(1, 1, 1024, 1536)" in out.stdout
