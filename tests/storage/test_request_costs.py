"""What writing a run costs the local server: replies without Nagle's delay, no no-op
stream closes, and the DuckDB table storage used by one request at a time."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest
from bluesky import RunEngine
from bluesky.plans import count
from ophyd_async.sim import SimBlobDetector

from fibsem_ophyd.storage import DurableTiledWriter, EmbeddedStore, read_images
from fibsem_ophyd.storage._serve import listening_socket
from fibsem_ophyd.storage._tables import OneAtATimePool, serialise_table_storage


def _nodelay_of_accepted(sock: socket.socket) -> int:
    """TCP_NODELAY of a connection that an asyncio server (as uvicorn runs it) accepts
    on `sock`."""

    async def accept_one() -> int:
        accepted: asyncio.Future[asyncio.BaseTransport] = asyncio.Future()

        class Protocol(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                accepted.set_result(transport)

        server = await asyncio.get_running_loop().create_server(Protocol, sock=sock)
        async with server:
            _, writer = await asyncio.open_connection(*sock.getsockname())
            transport = await accepted
            option = transport.get_extra_info("socket").getsockopt(
                socket.IPPROTO_TCP, socket.TCP_NODELAY
            )
            transport.close()
            writer.close()
            return option

    return asyncio.run(accept_one())


def test_server_connections_send_replies_at_once() -> None:
    sock = listening_socket()
    sock.bind(("127.0.0.1", 0))
    assert _nodelay_of_accepted(sock) != 0
    plain = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # what the server had
    plain.bind(("127.0.0.1", 0))
    assert _nodelay_of_accepted(plain) == 0  # so the check above can fail


def _record_requests(writer: DurableTiledWriter) -> list[str]:
    paths: list[str] = []
    http = writer._writer.client.context.http_client
    http.event_hooks["request"].append(lambda request: paths.append(request.url.path))
    return paths


def test_local_store_writes_runs_without_stream_closes(
    RE: RunEngine, det: SimBlobDetector, shared_store: EmbeddedStore
) -> None:
    writer = shared_store.writer()
    paths = _record_requests(writer)
    RE.subscribe(writer)
    (uid,) = RE(count([det], num=2))
    shared_store.flush()
    assert paths and not [p for p in paths if "/stream/close/" in p]
    run = read_images(shared_store.client(), uid)
    assert run.stop is not None and run.images["det"].shape[0] == 2
    assert list(shared_store.settings.journal_dir.glob("*.jsonl")) == []


def test_writer_for_a_remote_server_closes_streams(
    RE: RunEngine, det: SimBlobDetector, shared_store: EmbeddedStore
) -> None:
    writer = DurableTiledWriter(shared_store.client().include_data_sources(), None)
    paths = _record_requests(writer)
    RE.subscribe(writer)
    (uid,) = RE(count([det], num=1))
    assert writer.flush(timeout_s=120)
    closed = [p for p in paths if "/stream/close/" in p]
    assert any(p.rstrip("/").endswith(uid) for p in closed)  # the run's own node too
    writer.close()


def test_table_storage_is_lent_to_one_thread_at_a_time(tmp_path: Path) -> None:
    from tiled.catalog import from_uri

    tables = f"duckdb:///{tmp_path / 'tables.duckdb'}"
    catalog = from_uri("sqlite:///:memory:", writable_storage=[tmp_path / "files", tables])
    assert serialise_table_storage(catalog) == 1
    (storage,) = [s for s in catalog.context.writable_storage.values() if "duckdb" in s.uri]
    assert isinstance(storage._connection_pool, OneAtATimePool)
    first = storage.connect()
    with first.cursor() as cursor:
        cursor.execute("CREATE TABLE t (x INTEGER)")
    second_in = threading.Event()

    def second() -> None:
        connection = storage.connect()  # waits until `first` is given back
        second_in.set()
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO t VALUES (2)")
        connection.commit()
        connection.close()

    thread = threading.Thread(target=second)
    thread.start()
    assert not second_in.wait(0.5)  # still waiting: the connection is lent
    with first.cursor() as cursor:
        cursor.execute("INSERT INTO t VALUES (1)")
    first.commit()
    first.close()
    thread.join(timeout=60)
    assert second_in.is_set()
    with closing(storage.connect()) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT x FROM t ORDER BY x")
        assert [row[0] for row in cursor.fetchall()] == [1, 2]
    storage.dispose()


def test_a_table_connection_never_given_back_fails_a_request_not_the_server(
    tmp_path: Path,
) -> None:
    from sqlalchemy.exc import TimeoutError as PoolTimeoutError
    from tiled.catalog import from_uri

    tables = f"duckdb:///{tmp_path / 'tables.duckdb'}"
    catalog = from_uri("sqlite:///:memory:", writable_storage=[tmp_path / "files", tables])
    serialise_table_storage(catalog)
    (storage,) = [s for s in catalog.context.writable_storage.values() if "duckdb" in s.uri]
    storage.__dict__["_connection_pool"]._wait_s = 0.3
    held = storage.connect()
    started = time.monotonic()
    with pytest.raises(PoolTimeoutError, match=r"not given back within 0\.3 s"):
        storage.connect()  # the same thread asking again: an error, not a hang
    assert 0.25 <= time.monotonic() - started < 5.0
    held.close()
    with closing(storage.connect()) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT 41 + 1")  # given back: lent again
        assert cursor.fetchone()[0] == 42
    storage.dispose()


def test_reading_a_run_asks_for_each_node_once(
    RE: RunEngine, det: SimBlobDetector, shared_store: EmbeddedStore
) -> None:
    shared_store.subscribe(RE)
    (uid,) = RE(count([det], num=1))
    shared_store.flush()
    client = shared_store.client()
    paths: list[str] = []
    client.context.http_client.event_hooks["request"].append(
        lambda request: paths.append(request.url.path)
    )
    run = read_images(client, uid)
    assert run.images["det"].shape[0] == 1 and "seq_num" in run.readings
    assert paths and len(paths) == len(set(paths)), paths
