"""The data engine: runs (live from the RunEngine, or replayed from tiled) into a
labelled dataset in the ``ml.layout`` layout, and train/test curation of it.
Documents and arrays only: nothing here imports the devices or plans."""

from ._build import RunAdded, add_run
from ._csv import append_rows, read_rows
from ._dataset import DETECTIONS_CSV, SUPERVISION_CSV, Dataset
from ._frames import FileFrames, TiledFrames
from ._run_docs import RunDocuments
from .curate import SPLITS_CSV, SplitConfig, curate, split
from .engine import DataEngine, DataEngineError
from .replay import connect, replay, run_documents, select_runs

__all__ = [
    "DETECTIONS_CSV",
    "SPLITS_CSV",
    "SUPERVISION_CSV",
    "DataEngine",
    "DataEngineError",
    "Dataset",
    "FileFrames",
    "RunAdded",
    "RunDocuments",
    "SplitConfig",
    "TiledFrames",
    "add_run",
    "append_rows",
    "connect",
    "curate",
    "read_rows",
    "replay",
    "run_documents",
    "select_runs",
    "split",
]
