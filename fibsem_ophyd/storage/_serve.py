"""The tiled server process of the embedded store:
`python -m fibsem_ophyd.storage._serve DIR PORT private|shared`
(the catalog database from `$FIBSEM_OPHYD_CATALOG_URI`, default SQLite in DIR).

It reads the API key from DIR/api_key and the read-only browse key from
DIR/browse_key (never from argv, which other users can see), binds 127.0.0.1
only, and records its pid and port in DIR/server.json.
With `private` it was started with umask 077 (`_private.SERVER_UMASK`): the
catalog and everything else it writes is readable by this user only.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from pathlib import Path

from ._browse import BrowseKeyMiddleware
from ._catalog_init import initialise_catalog
from ._fast_app import bake_dependency_overrides
from ._settings import CATALOG_ENV_VAR, LOCALHOST, StorageSettings, ensure_api_key
from ._tables import serialise_table_storage

CATALOG_SPEC = ("CatalogOfBlueskyRuns", "3.0")


def build_tiled_app(settings: StorageSettings, api_key: str, browse_key: str | None = None):
    """The tiled app over the persistent catalog of `settings` (SQLite in `data_dir`,
    or the PostgreSQL database of `catalog_uri`)."""
    import copy

    from tiled.catalog import from_uri as catalog_from_uri
    from tiled.config import Authentication
    from tiled.media_type_registration import default_serialization_registry
    from tiled.server.app import build_app

    settings.make_dirs()
    if not catalog_exists(settings):
        initialise_catalog(settings.catalog_database)  # in this process: _catalog_init.py
    tables = f"duckdb:///{settings.writable_dir / 'tables.duckdb'}"
    catalog = catalog_from_uri(
        settings.catalog_database,
        writable_storage=[settings.writable_dir, tables],
        readable_storage=[settings.frames_dir],
        init_if_not_exists=False,
        specs=[{"name": CATALOG_SPEC[0], "version": CATALOG_SPEC[1]}],
    )
    serialise_table_storage(catalog)  # DuckDB: one request at a time on its connection
    # databroker's `run.documents()` asks the server for the run as JSON-seq
    serializers = copy.deepcopy(default_serialization_registry)
    serializers.register("BlueskyRun", "application/json-seq", _json_seq_exporter)
    app = build_app(
        catalog,
        authentication=Authentication(single_user_api_key=api_key),
        serialization_registry=serializers,
    )
    if browse_key is not None:  # a second key, read-only (tiled's web UI)
        app.add_middleware(BrowseKeyMiddleware, api_key=api_key, browse_key=browse_key)
    bake_dependency_overrides(app)  # ~80 ms of server CPU less per request
    return app


def _json_seq_exporter(*args):
    """bluesky-tiled-plugins' JSON-seq exporter, imported at its first use: importing
    the package costs the server about a second and a half at every start."""
    from bluesky_tiled_plugins.exporters import json_seq_exporter

    return json_seq_exporter(*args)  # an async generator; tiled passes 3 or 4 arguments


def catalog_exists(settings: StorageSettings) -> bool:
    """True if the catalog database holds a tiled catalog already."""
    if settings.catalog_uri is None:
        return settings.catalog_path.exists()
    return asyncio.run(_postgres_has_catalog(settings.catalog_uri))


async def _postgres_has_catalog(uri: str) -> bool:
    import asyncpg

    scheme, rest = uri.split(":", 1)
    connection = await asyncpg.connect(scheme.split("+", 1)[0] + ":" + rest)
    try:
        return bool(await connection.fetchval("SELECT to_regclass('public.nodes') IS NOT NULL"))
    finally:
        await connection.close()


def _write_server_file(settings: StorageSettings, port: int) -> None:
    record = {"pid": os.getpid(), "host": LOCALHOST, "port": port}
    tmp = settings.server_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(record))
    os.replace(tmp, settings.server_file)


def listening_socket() -> socket.socket:
    """A TCP socket for the server, not bound yet, whose connections send at once.

    The protocol must be named (IPPROTO_TCP, not 0): asyncio switches Nagle's
    algorithm off (TCP_NODELAY) only on sockets that say they are TCP. With it on,
    a response's body waited for the client's delayed ACK of its headers: 40 ms
    a request, most of a one-frame run's time in tiled."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # inherited by accept()
    return sock


def serve(data_dir: Path, port: int, private: bool = True) -> None:
    # Frames are read while a detector may still hold them open (or was killed
    # holding them): that needs HDF5's single-writer/multiple-reader mode.
    os.environ.setdefault("TILED_HDF5_SWMR_DEFAULT", "1")
    import uvicorn

    settings = StorageSettings(
        data_dir=data_dir, port=port, private=private, catalog_uri=os.environ.get(CATALOG_ENV_VAR)
    )
    api_key = ensure_api_key(settings.api_key_path)
    app = build_tiled_app(settings, api_key, ensure_api_key(settings.browse_key_path))
    sock = listening_socket()
    sock.bind((LOCALHOST, port))
    config = uvicorn.Config(app, loop="asyncio", log_level="warning", access_log=False)
    _write_server_file(settings, sock.getsockname()[1])
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    serve(Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3:4] != ["shared"])
