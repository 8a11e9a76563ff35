"""The local tiled server: loopback only, API key required, persistent, adoptable."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import numpy as np
import pytest
from bluesky import RunEngine
from bluesky.plans import count

from fibsem_ophyd.storage import EmbeddedStore, read_images


def _listening_addresses(port: int) -> set[str]:
    """Local addresses of the sockets listening on `port` (from /proc/net/tcp*)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def test_server_listens_on_loopback_only(shared_store: EmbeddedStore) -> None:
    port = json.loads(shared_store.settings.server_file.read_text())["port"]
    assert shared_store.uri == f"http://127.0.0.1:{port}/api/v1"
    assert _listening_addresses(port) == {"0100007F"}  # 127.0.0.1, nothing else


def test_api_key_is_required(shared_store: EmbeddedStore) -> None:
    from tiled.client import from_uri

    with httpx.Client(trust_env=False) as http:
        assert http.get(f"{shared_store.uri}/metadata/").status_code == 401
        wrong = {"Authorization": "Apikey " + "0" * 64}
        assert http.get(f"{shared_store.uri}/metadata/", headers=wrong).status_code == 401
        right = {"Authorization": f"Apikey {shared_store.api_key}"}
        assert http.get(f"{shared_store.uri}/metadata/", headers=right).status_code == 200
    with pytest.raises(Exception, match=r"401|[Uu]nauthori[sz]ed|[Aa]uthenticat"):
        from_uri(shared_store.uri, trust_env=False, remember_me=False)


def test_runs_persist_across_restart(store: EmbeddedStore, RE: RunEngine, detector_for) -> None:
    det = detector_for(store)
    store.subscribe(RE)
    (uid,) = RE(count([det], num=2))
    store.flush()
    before = read_images(store.client(), uid).images["det"]
    pid = store._server.pid if store._server else None
    store.stop()
    restarted = EmbeddedStore(store.settings).start()
    try:
        assert restarted._server is not None and restarted._server.pid != pid
        again = read_images(restarted.client(), uid)
        np.testing.assert_array_equal(again.images["det"], before)
        assert again.stop is not None and again.stop["exit_status"] == "success"
    finally:
        restarted.stop()


def test_second_store_adopts_running_server(shared_store: EmbeddedStore) -> None:
    second = EmbeddedStore(shared_store.settings).start()
    assert second.uri == shared_store.uri
    second.stop()  # adopted: must leave the server running
    assert len(shared_store.client()) >= 0


def test_remote_settings_start_nothing(shared_store: EmbeddedStore, tmp_path: Path) -> None:
    remote = EmbeddedStore(uri=shared_store.uri, api_key=shared_store.api_key, data_dir=tmp_path)
    with remote:
        assert remote.uri == shared_store.uri
        assert remote._server is None
        assert "CatalogOfBlueskyRuns" in type(remote.client()).__name__
