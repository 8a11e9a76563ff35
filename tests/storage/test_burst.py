"""A burst of short runs: each becomes readable on its own, without `flush()`, and the
server's FastAPI app resolves no dependency overrides per request."""

from __future__ import annotations

import time
from collections.abc import Callable

from bluesky import RunEngine
from bluesky.plans import count
from fastapi import Depends, FastAPI
from fastapi.dependencies import utils as fastapi_utils
from fastapi.testclient import TestClient
from ophyd_async.sim import SimBlobDetector

from fibsem_ophyd.storage import EmbeddedStore, read_images
from fibsem_ophyd.storage._fast_app import BakedOverrides, bake_dependency_overrides

BOUND_S = 120.0  # generous: the benchmark reports the real delay (bench_store_burst.py)


def _readable(client, uid: str) -> bool:
    try:
        run = read_images(client, uid)
    except Exception:  # not there yet, or not whole yet
        return False
    return run.stop is not None and run.images["det"].shape[0] == 1


def test_runs_of_a_burst_become_readable_without_flush(
    RE: RunEngine, det: SimBlobDetector, shared_store: EmbeddedStore
) -> None:
    stops: dict[str, float] = {}
    RE.subscribe(lambda n, d: stops.__setitem__(d["run_start"], time.monotonic()), "stop")
    shared_store.subscribe(RE)
    uids = [RE(count([det], num=1))[0] for _ in range(3)]
    client = shared_store.client()
    seen: dict[str, float] = {}
    deadline = time.monotonic() + BOUND_S
    while len(seen) < len(uids) and time.monotonic() < deadline:
        for uid in uids:
            if uid not in seen and _readable(client, uid):
                seen[uid] = time.monotonic()
        time.sleep(0.05)
    assert set(seen) == set(uids), "runs not readable without flush()"
    assert all(seen[u] - stops[u] < BOUND_S for u in uids)
    assert list(shared_store.settings.journal_dir.glob("*.jsonl")) == []


def _app_with_override() -> tuple[FastAPI, Callable[[], str]]:
    def get_name() -> str:
        return "default"

    def override() -> str:
        return "overridden"

    def nested(name: str = Depends(get_name)) -> str:
        return name.upper()

    app = FastAPI()

    @app.get("/name")
    def name(value: str = Depends(nested)) -> dict:
        return {"name": value}

    app.dependency_overrides[get_name] = override
    return app, get_name


def test_baked_overrides_apply_without_per_request_analysis(monkeypatch) -> None:
    app, get_name = _app_with_override()
    assert bake_dependency_overrides(app) == 1
    assert isinstance(app.dependency_overrides, BakedOverrides)
    assert not app.dependency_overrides  # FastAPI's fast path
    assert app.dependency_overrides[get_name]() == "overridden"  # tiled's hooks read it
    calls: list[object] = []
    original = fastapi_utils.get_dependant
    monkeypatch.setattr(
        fastapi_utils, "get_dependant", lambda **kw: calls.append(kw) or original(**kw)
    )
    with TestClient(app) as http:
        assert http.get("/name").json() == {"name": "OVERRIDDEN"}
    assert calls == []


def test_override_with_parameters_is_left_to_fastapi() -> None:
    app, get_name = _app_with_override()

    def override(name: str = "q") -> str:
        return name

    app.dependency_overrides[get_name] = override
    assert bake_dependency_overrides(app) == 0
    assert app.dependency_overrides == {get_name: override}
    with TestClient(app) as http:
        assert http.get("/name", params={"name": "x"}).json() == {"name": "X"}
