"""The experiment file: a stage record no longer carries the unused `run_uids`, and an
experiment saved with it (before it was removed) still loads and resumes."""

from __future__ import annotations

from pathlib import Path

import yaml

from fibsem_ophyd.backend import StagePosition
from fibsem_ophyd.experiment import Experiment, StageRecord


def test_saved_records_have_no_run_uids_and_old_files_still_load(tmp_path: Path) -> None:
    exp = Experiment.create(tmp_path, {"lamella-01": StagePosition(x_m=0.0, y_m=0.0)})
    exp.record("lamella-01", StageRecord(stage="trench", outcome="success", clock_start_s=0.0,
                                         clock_stop_s=5.0))  # fmt: skip
    path = tmp_path / "experiment.yaml"
    data = yaml.safe_load(path.read_text())
    (record,) = data["lamellae"]["lamella-01"]["history"]
    assert "run_uids" not in record

    record["run_uids"] = ["0f3c"]  # as the older version wrote it
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    again = Experiment.load(tmp_path)
    assert again.lamellae["lamella-01"].history[0].stage == "trench"
    assert again.lamellae["lamella-01"].done("trench")
