"""Shared fixtures: a migrated database (SQLite by default, PostgreSQL when TELEPLEX_DATABASE_URL says so),
a fake clock, the app, and an API client that logs in as any role."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import delete, text

from teleplex.app import create_app
from teleplex.auth import passwords
from teleplex.core.clock import FakeClock
from teleplex.core.db import Database
from teleplex.core.migrate import upgrade
from teleplex.core.settings import Settings
from teleplex.models import Base

from api_client import Api  # noqa: E402 - the helper tests use to act as someone

IN_CI = bool(os.environ.get("CI"))

pytest_plugins = ["hang_watch"]  # prints every thread's and task's stack when a test hangs

# The same argon2 code with cheap parameters: the suite creates hundreds of users.
passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
passwords._DUMMY = passwords._hasher.hash("teleplex-dummy-password")


def database_url() -> str:
    given = os.environ.get("TELEPLEX_DATABASE_URL")
    if given:
        return Settings(database_url=given).database_url
    folder = Path(tempfile.mkdtemp(prefix="teleplex-test-"))
    return f"sqlite+aiosqlite:///{folder}/test.db"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test that uses the database is marked `db`, so `pytest -m db` reruns exactly those on PostgreSQL."""
    for item in items:
        if "database" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)


async def _reset_schema(db: Database) -> None:
    if db.engine.dialect.name == "postgresql":
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await upgrade(db.engine)


@pytest.fixture(scope="session")
async def database() -> AsyncIterator[Database]:
    db = Database(database_url())
    try:
        async with asyncio.timeout(10):
            await _reset_schema(db)
    except (OSError, TimeoutError, ConnectionError) as exc:
        await db.dispose()
        if IN_CI:
            raise
        pytest.skip(f"no postgres reachable at {db.url.split('@')[-1]}: {exc}")  # outside CI only (raised above in CI)
    yield db
    await db.dispose()


@pytest.fixture
async def clean_database(database: Database) -> AsyncIterator[Database]:
    """Each test starts from empty tables (cheaper than migrating again)."""
    yield database
    async with database.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            await conn.execute(delete(table))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(clean_database: Database) -> Settings:
    return Settings(database_url=clean_database.url, cookie_secure=False)


@pytest.fixture
async def api(settings: Settings, clock: FakeClock, clean_database: Database) -> AsyncIterator[Api]:
    app = create_app(settings, clock=clock, db=clean_database)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://teleplex.test") as client:
        client_api = Api(client)
        await client_api.bootstrap_admin(clean_database, clock)
        yield client_api


@pytest.fixture
async def live(settings: Settings, clock: FakeClock, clean_database: Database) -> AsyncIterator[Api]:
    """Like `api`, with the app's lifespan running: the routing engine is started (no Asterisk)."""
    app = create_app(settings, clock=clock, db=clean_database)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://teleplex.test") as client:
            client_api = Api(client)
            await client_api.bootstrap_admin(clean_database, clock)
            yield client_api
