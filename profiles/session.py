"""Build a working session: RunEngine, microscope, storage, progress display.

from profiles.session import start_session
s = start_session()          # twin by default, embedded tiled store
s.RE(acquire_image(s.microscope, "ion"))
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bluesky import RunEngine

from fibsem_ophyd.config import MicroscopeConfig, load_config
from fibsem_ophyd.connect import connect_microscope
from fibsem_ophyd.devices.microscope import Microscope
from fibsem_ophyd.storage import EmbeddedStore, StorageSettings
from ml.data_engine import DataEngine

from .detectors import wire_detectors
from .guidance import DEFAULT_MODEL_TARGETS
from .keypoints import wire_keypoints
from .progress import RunProgress
from .safety import install_halt_safety


@dataclass
class Session:
    RE: RunEngine
    microscope: Microscope
    config: MicroscopeConfig
    store: EmbeddedStore | None
    tokens: list[int] = field(default_factory=list)
    data_engine: DataEngine | None = None

    def catalog(self) -> Any:
        """The tiled catalog of this session's store (after everything written so far
        has reached it)."""
        if self.store is None:
            raise RuntimeError("this session has no store")
        self.store.flush()
        return self.store.client()

    def close(self) -> None:
        try:
            if self.data_engine is not None:
                self.data_engine.close()
        finally:
            if self.store is not None:
                self.store.stop()


def start_session(
    config: str | Path | MicroscopeConfig | None = None,
    *,
    data_dir: str | Path | None = None,
    store: bool = True,
    progress: bool = True,
    twin: dict[str, Any] | None = None,
    call_returns_result: bool = True,
    accept_fingerprint_mismatch: bool = False,
    keypoint_model: str | Path | None = None,
    model_guidance: Iterable[str] | None = None,
    model_refinement: bool = False,
    dataset_dir: str | Path | None = None,
) -> Session:
    """Connect the configured microscope (the twin by default) and wire the RunEngine
    to the embedded store and a progress display. A microscope that does not match the
    configuration's fingerprint is refused unless `accept_fingerprint_mismatch`.
    `keypoint_model` (a segmentation checkpoint or ONNX file, or "shipped") adds
    keypoint processors (`microscope.sem_keypoints`, `fib_keypoints`) running it;
    `model_guidance` names the workflow targets it finds in place of the classical
    finders ("needle", "landing_post", "landed_lamella"; default: those where it
    measures at least as good, profiles/guidance.py); with `model_refinement` the
    classical finder places what the model found. With `dataset_dir`, the data
    engine adds every run to that dataset (ml/data_engine)."""
    if model_guidance is not None and keypoint_model is None:
        raise ValueError("model_guidance needs a keypoint_model (a checkpoint or ONNX file)")
    cfg = config if isinstance(config, MicroscopeConfig) else load_config(config)
    engine = DataEngine(dataset_dir) if dataset_dir is not None else None  # checked first
    RE = RunEngine({}, call_returns_result=call_returns_result)
    the_store: EmbeddedStore | None = None
    path_provider = None
    if store:
        settings = StorageSettings(data_dir=Path(data_dir)) if data_dir else StorageSettings()
        the_store = EmbeddedStore(settings).start()
        path_provider = the_store.path_provider()
    try:
        microscope = connect_microscope(
            cfg,
            path_provider=path_provider,
            twin=twin,
            accept_fingerprint_mismatch=accept_fingerprint_mismatch,
        )
        source = None if keypoint_model is None else wire_keypoints(microscope, keypoint_model)
        targets = DEFAULT_MODEL_TARGETS if model_guidance is None else model_guidance
        wire_detectors(
            microscope, model=source, model_targets=targets, model_refinement=model_refinement
        )
    except BaseException:
        if the_store is not None:  # a refused connection leaves no server behind
            the_store.stop()
        if engine is not None:
            engine.close()
        raise
    install_halt_safety(RE, microscope)
    session = Session(RE=RE, microscope=microscope, config=cfg, store=the_store)
    if the_store is not None:
        session.tokens.append(the_store.subscribe(RE))
    if engine is not None:
        session.data_engine = engine
        session.tokens.append(RE.subscribe(engine))
    if progress:
        session.tokens.append(RE.subscribe(RunProgress()))
    return session


__all__ = ["Session", "start_session"]
