"""The migrations build exactly the schema the models describe, and the schema status tells old from new."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection

from teleplex.core.db import Database
from teleplex.core.migrate import schema_status, upgrade
from teleplex.models import Base

UNKNOWN_REVISION = "ffffffffffff_from_the_future"


def _differences(conn: Connection) -> list:
    context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
    return compare_metadata(context, Base.metadata)


async def test_the_migrated_schema_matches_the_models_exactly(database: Database):
    """A model changed without a migration (or a migration that drifts from the models) shows up here."""
    await upgrade(database.engine)
    async with database.engine.connect() as conn:
        differences = await conn.run_sync(_differences)
    assert differences == [], "models and migrations differ; write a migration:\n" + "\n".join(map(str, differences))


async def test_every_model_table_exists_after_upgrade(database: Database):
    def tables(conn: Connection) -> set[str]:
        from sqlalchemy import inspect

        return set(inspect(conn).get_table_names())

    async with database.engine.connect() as conn:
        present = await conn.run_sync(tables)
    assert set(Base.metadata.tables) <= present
    assert "alembic_version" in present


async def test_upgrading_twice_changes_nothing(database: Database):
    await upgrade(database.engine)
    first = await schema_status(database.engine)
    await upgrade(database.engine)
    assert await schema_status(database.engine) == first


async def test_schema_status_is_up_to_date_after_upgrade(database: Database):
    await upgrade(database.engine)
    status = await schema_status(database.engine)
    assert status.up_to_date
    assert status.current == status.head
    assert status.known
    assert not status.newer_than_code


@pytest.fixture
async def revision_from_the_future(database: Database) -> AsyncIterator[Database]:
    """alembic_version set to a revision this code has never heard of; the real one is put back after."""
    async with database.engine.connect() as conn:
        real = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
    async with database.engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": UNKNOWN_REVISION})
    try:
        yield database
    finally:
        async with database.engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": real})


async def test_schema_status_reports_a_database_newer_than_the_code(revision_from_the_future: Database):
    status = await schema_status(revision_from_the_future.engine)
    assert status.current == UNKNOWN_REVISION
    assert status.newer_than_code
    assert not status.known
    assert not status.up_to_date


async def test_the_real_revision_is_back_after_the_future_one(database: Database):
    """Guards the fixture above: later tests (and the suite's own database) still see the head revision."""
    status = await schema_status(database.engine)
    assert status.up_to_date
