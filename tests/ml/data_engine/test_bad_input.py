"""Bad input to the data engine: clear errors naming the run, file or field, and
nothing written."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

from ml.data_engine import DataEngine, DataEngineError, Dataset, FileFrames, RunDocuments, add_run
from ml.data_engine.cli import main

from .conftest import SITE, images_run


def _documents(RE, m) -> RunDocuments:
    collected: list[tuple[str, dict]] = []
    token = RE.subscribe(lambda name, doc: collected.append((name, doc)))
    RE(images_run(m, "ion", 1, {"lamella": SITE}))
    RE.unsubscribe(token)
    docs = RunDocuments(start=collected[0][1])
    for name, doc in collected[1:]:
        docs.add(name, doc)
    return docs


def test_missing_frame_file_names_the_file_and_writes_nothing(RE, small_microscope, tmp_path):
    docs = _documents(RE, small_microscope)
    (resource,) = docs.stream_resources.values()
    frame_file = Path(urlparse(resource["uri"]).path)
    frame_file.unlink()
    with pytest.raises(FileNotFoundError, match=re.escape(str(frame_file))):
        add_run(docs, FileFrames(), Dataset(tmp_path / "ds"))
    assert not (tmp_path / "ds").exists()


def test_a_run_without_its_stop_document_is_refused(RE, small_microscope, tmp_path):
    docs = _documents(RE, small_microscope)
    docs.stop = None
    with pytest.raises(ValueError, match=f"run {docs.uid} has no stop document"):
        add_run(docs, FileFrames(), Dataset(tmp_path / "ds"))


def test_a_dataset_path_that_is_a_file_is_refused(tmp_path):
    path = tmp_path / "not-a-folder"
    path.write_text("x")
    with pytest.raises(NotADirectoryError, match=re.escape(str(path))):
        DataEngine(path)


def test_curating_a_missing_folder_says_so(tmp_path):
    missing = tmp_path / "nowhere"
    message = re.escape(f"dataset folder {missing} does not exist")
    with pytest.raises(FileNotFoundError, match=message):
        main(["curate", "--dataset", str(missing)])
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"metadata\.csv is missing"):
        main(["curate", "--dataset", str(tmp_path / "empty")])


def test_curate_refuses_a_test_fraction_out_of_range(tmp_path, capsys):
    with pytest.raises(SystemExit, match="test_fraction"):
        main(["curate", "--dataset", str(tmp_path), "--test-fraction", "1.5"])


def test_a_document_the_engine_cannot_file_never_stops_the_experiment(tmp_path):
    engine = DataEngine(tmp_path / "ds")
    name, _ = engine("descriptor", {"uid": "descriptor-without-run"})  # no run_start
    assert name == "descriptor"  # handed on, nothing raised into the RunEngine
    with pytest.raises(DataEngineError, match=r"descriptor-without-run.*KeyError"):
        engine.flush()
    engine.close()
