"""Alembic environment: migrations run on a connection handed in by teleplex.core.migrate."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from teleplex.models import Base  # every table, so autogenerate sees them all

target_metadata = Base.metadata


def _run(conn: Connection) -> None:
    context.configure(
        connection=conn,
        target_metadata=target_metadata,
        render_as_batch=conn.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_standalone() -> None:
    """For the `alembic` command line used when writing a migration: connect from TELEPLEX_DATABASE_URL."""
    from teleplex.core.db import create_engine
    from teleplex.core.settings import load_settings

    async def go() -> None:
        engine = create_engine(load_settings().database_url)
        async with engine.begin() as conn:
            await conn.run_sync(_run)
        await engine.dispose()

    asyncio.run(go())


connection = context.config.attributes.get("connection")
if connection is None:
    _run_standalone()
else:
    _run(connection)
