"""Create tiled's catalog tables in the server process itself.

tiled's `from_uri(init_if_not_exists=True)` runs `python -m tiled catalog init` in a
subprocess, which costs seconds of imports at every first start of a store. The server
process has tiled imported already and its event loop not yet started, so it can do the
same two steps here: create the tables (async SQLAlchemy), then stamp alembic's head
revision (synchronous), in that order, as tiled's own command does.
"""

from __future__ import annotations

import asyncio


def initialise_catalog(database_uri: str) -> bool:
    """Make `database_uri` an empty tiled catalog if it holds none; True if it did."""
    from sqlalchemy.ext.asyncio import create_async_engine
    from tiled.alembic_utils import UninitializedDatabase, check_database, stamp_head
    from tiled.catalog.alembic_constants import ALEMBIC_DIR, ALEMBIC_INI_TEMPLATE_PATH
    from tiled.catalog.core import ALL_REVISIONS, REQUIRED_REVISION, initialize_database
    from tiled.utils import ensure_specified_sql_driver

    uri = ensure_specified_sql_driver(database_uri)

    async def create_tables() -> bool:
        engine = create_async_engine(uri)
        try:
            await check_database(engine, REQUIRED_REVISION, ALL_REVISIONS)
        except UninitializedDatabase:
            await initialize_database(engine)
            return True
        finally:
            await engine.dispose()
        return False

    created = asyncio.run(create_tables())
    if created:
        stamp_head(ALEMBIC_INI_TEMPLATE_PATH, ALEMBIC_DIR, uri)
    return created
